/**
 * Analyzed heads, cached in memory and in global storage under one key: the identity the engine
 * computed them from (model content hash + prior identity) and the report sizes. Files are written
 * atomically (temp + rename); a file that does not parse is deleted and treated as a miss.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PathRef, ReportSizes } from "../../core/report";
import { Identity, ModelMetrics } from "../../protocol/engine";
import { ShownHead } from "../../protocol/webview";

export class ResultCache {
  private memory = new Map<string, unknown>();

  constructor(private readonly dir: string) {}

  /** The cache key of every head computed from this identity with these sizes (and through this path). */
  static key(identity: Identity, sizes: ReportSizes, via?: PathRef): string {
    const path = via ? [via.layer, via.head, via.type] : [];
    return createHash("sha256").update(JSON.stringify([identity.model, identity.prior, sizes.nKeys, sizes.nQueries, sizes.nOutputs, ...path])).digest("hex").slice(0, 32);
  }

  get(key: string, layer: number, head: number): ShownHead | undefined {
    return this.read(`${key}-${layer}-${head}`, (v: ShownHead) => !!v?.report?.keys && v.report.layer === layer && v.report.head === head && !!v.computedWith);
  }

  put(key: string, value: ShownHead): void {
    this.write(`${key}-${value.report.layer}-${value.report.head}`, value);
  }

  /** A model's head metrics, keyed by its content identity. */
  getMetrics(modelIdentity: string): ModelMetrics | undefined {
    return this.read(`metrics-${modelIdentity.slice(0, 32)}`, (v: ModelMetrics) => Array.isArray(v?.heads) && !!v.composition);
  }

  putMetrics(modelIdentity: string, value: ModelMetrics): void {
    this.write(`metrics-${modelIdentity.slice(0, 32)}`, value);
  }

  private read<T>(id: string, valid: (v: T) => boolean): T | undefined {
    const hit = this.memory.get(id) as T | undefined;
    if (hit) return hit;
    const file = join(this.dir, `${id}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    try {
      const value = JSON.parse(text) as T;
      if (!valid(value)) throw new Error("wrong shape");
      this.memory.set(id, value);
      return value;
    } catch {
      try {
        unlinkSync(file); // a corrupt entry is dropped, never used
      } catch { /* already gone */ }
      return undefined;
    }
  }

  private write(id: string, value: unknown): void {
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
