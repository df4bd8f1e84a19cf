/**
 * Analyzed heads, cached in memory and in global storage under one key: the identity the engine
 * computed them from (model content hash + prior identity) and the report sizes. Files are written
 * atomically (temp + rename); a file that does not parse is deleted and treated as a miss.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ReportSizes } from "../../core/report";
import { Identity } from "../../protocol/engine";
import { ShownHead } from "../../protocol/webview";

export class ResultCache {
  private memory = new Map<string, ShownHead>();

  constructor(private readonly dir: string) {}

  /** The cache key of every head computed from this identity with these sizes. */
  static key(identity: Identity, sizes: ReportSizes): string {
    return createHash("sha256").update(JSON.stringify([identity.model, identity.prior, sizes.nKeys, sizes.nQueries, sizes.nOutputs])).digest("hex").slice(0, 32);
  }

  get(key: string, layer: number, head: number): ShownHead | undefined {
    const id = `${key}-${layer}-${head}`;
    const hit = this.memory.get(id);
    if (hit) return hit;
    const file = join(this.dir, `${id}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    try {
      const value = JSON.parse(text) as ShownHead;
      if (!value?.report?.keys || value.report.layer !== layer || value.report.head !== head || !value.computedWith) throw new Error("wrong shape");
      this.memory.set(id, value);
      return value;
    } catch {
      try {
        unlinkSync(file); // a corrupt entry is dropped, never used
      } catch { /* already gone */ }
      return undefined;
    }
  }

  put(key: string, value: ShownHead): void {
    const id = `${key}-${value.report.layer}-${value.report.head}`;
    this.memory.set(id, value);
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${id}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(value));
      renameSync(tmp, file);
    } catch {
      // Disk cache is an optimization: the memory copy still serves this session.
    }
  }
}
