/**
 * Analyzed heads, cached in memory and in global storage, keyed by the model's content hash and the
 * settings that change the result (sizes, prior and the prior file's identity). Files are written
 * atomically (temp + rename); a file that does not parse is deleted and treated as a miss.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ShownHead, PanelSettings } from "../../protocol/webview";

export class ResultCache {
  private memory = new Map<string, ShownHead>();

  constructor(private readonly dir: string) {}

  static settingsKey(contentHash: string, s: PanelSettings): string {
    let priorId = s.priors;
    if (s.priors !== "bundled" && s.priors !== "uniform") {
      const st = statSync(s.priors, { throwIfNoEntry: false });
      priorId += st ? `@${st.size}:${st.mtimeMs}` : "@missing";
    }
    return createHash("sha256").update(JSON.stringify([contentHash, s.nKeys, s.nQueries, s.nOutputs, priorId])).digest("hex").slice(0, 32);
  }

  get(settingsKey: string, layer: number, head: number): ShownHead | undefined {
    const key = `${settingsKey}-${layer}-${head}`;
    const hit = this.memory.get(key);
    if (hit) return hit;
    const file = join(this.dir, `${key}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    try {
      const value = JSON.parse(text) as ShownHead;
      if (!value?.report?.keys || value.report.layer !== layer || value.report.head !== head) throw new Error("wrong shape");
      this.memory.set(key, value);
      return value;
    } catch {
      try {
        unlinkSync(file); // a corrupt entry is dropped, never used
      } catch { /* already gone */ }
      return undefined;
    }
  }

  put(settingsKey: string, value: ShownHead): void {
    const key = `${settingsKey}-${value.report.layer}-${value.report.head}`;
    this.memory.set(key, value);
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${key}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(value));
      renameSync(tmp, file);
    } catch {
      // Disk cache is an optimization: the memory copy still serves this session.
    }
  }
}
