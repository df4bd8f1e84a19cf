/**
 * Results kept across requests and sessions, in memory and in a folder (the extension's global
 * storage), under one key: the identity they were computed from (model content hash + prior
 * identity), the report sizes and the path. Only the worker reads and writes it: it computes the
 * identity from the bytes it reads, so a request is answered from here or computed in one round
 * trip. Files are written atomically (temp + rename); a file that does not parse, or does not have
 * the shape this version writes, is deleted and treated as a miss; files of an earlier format are
 * deleted when the cache opens. Memory keeps the most recently used entries only.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { METRIC_SEQUENCES, ModelMetrics } from "../core/headMetrics";
import { HeadRef } from "../core/heads";
import { PathRef, ReportSizes } from "../core/report";
import { HeadResult, Identity } from "../protocol/engine";

/** Bumped when what is stored changes shape (v2: settings carry a parsed prior); it prefixes every file. */
const FORMAT = "v2";
/** Metrics measured on other sequences are other figures: a change of METRIC_SEQUENCES is a new key. */
const METRICS_TAG = createHash("sha256").update(JSON.stringify(METRIC_SEQUENCES)).digest("hex").slice(0, 8);
/** Entries kept in memory (a head's result is tens of KB; the worker also holds the model). */
const MEMORY_ENTRIES = 500;

export class ResultCache {
  /** Most recently used last. */
  private memory = new Map<string, unknown>();

  /** `dir`: where entries persist (besides memory). */
  constructor(private readonly dir: string) {
    deleteOtherFormats(dir);
  }

  /** The cache key of every head computed from this identity with these sizes (and through this path). */
  static key(identity: Identity, sizes: ReportSizes, via?: PathRef): string {
    const path = via ? [via.layer, via.head, via.type] : [];
    return createHash("sha256")
      .update(JSON.stringify([FORMAT, identity.model, identity.prior, sizes.nKeys, sizes.nQueries, sizes.nOutputs, ...path]))
      .digest("hex")
      .slice(0, 32);
  }

  get(key: string, h: HeadRef): HeadResult | undefined {
    return this.read(
      `${key}-${h.layer}-${h.head}`,
      (v: HeadResult) =>
        !!v?.report?.keys && v.report.layer === h.layer && v.report.head === h.head && typeof v.computedWith?.prior !== "undefined",
    );
  }

  put(key: string, value: HeadResult): void {
    this.write(`${key}-${value.report.layer}-${value.report.head}`, value);
  }

  /** A model's head metrics, keyed by its content identity and the metric sequences they were measured on. */
  getMetrics(modelIdentity: string): ModelMetrics | undefined {
    return this.read(
      `metrics-${METRICS_TAG}-${modelIdentity.slice(0, 32)}`,
      (v: ModelMetrics) => Array.isArray(v?.heads) && !!v.composition,
    );
  }

  putMetrics(modelIdentity: string, value: ModelMetrics): void {
    this.write(`metrics-${METRICS_TAG}-${modelIdentity.slice(0, 32)}`, value);
  }

  private read<T>(id: string, valid: (v: T) => boolean): T | undefined {
    const hit = this.memory.get(id) as T | undefined;
    if (hit) {
      this.remember(id, hit);
      return hit;
    }
    const file = join(this.dir, `${FORMAT}-${id}.json`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
    try {
      const value = JSON.parse(text) as T;
      if (!valid(value)) throw new Error("wrong shape");
      this.remember(id, value);
      return value;
    } catch {
      try {
        unlinkSync(file); // a corrupt entry is dropped, never used
      } catch {
        /* already gone */
      }
      return undefined;
    }
  }

  private remember(id: string, value: unknown): void {
    this.memory.delete(id);
    this.memory.set(id, value);
    if (this.memory.size > MEMORY_ENTRIES) this.memory.delete(this.memory.keys().next().value!);
  }

  private write(id: string, value: unknown): void {
    this.remember(id, value);
    try {
      mkdirSync(this.dir, { recursive: true });
      const file = join(this.dir, `${FORMAT}-${id}.json`);
      const tmp = `${file}.${process.pid}.${process.hrtime.bigint()}.tmp`;
      writeFileSync(tmp, JSON.stringify(value));
      renameSync(tmp, file);
    } catch {
      // The disk cache is an optimization: the memory copy still serves this session.
    }
  }
}

/** Entries an earlier version wrote can never be read again (their keys differ): they go. */
function deleteOtherFormats(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no cache yet
  }
  for (const name of names) {
    if (!name.endsWith(".json") || name.startsWith(`${FORMAT}-`)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      /* gone already, or another window's worker took it */
    }
  }
}
