/**
 * A timeline run: a model's checkpoints listed, N of them chosen (evenly in log label space, first
 * and last always), and each one's metrics — light (read in part: lightRead.ts) or full (the whole
 * checkpoint opened and `metrics` run) — from the cache when an earlier run computed them (keyed by
 * the checkpoint's etag, the mode and the metric definition), so an interrupted run resumes where
 * it stopped and a second run reads nothing. Checkpoints are reported as they are done, in order.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CheckpointFile, spreadCheckpoints } from "../../core/checkpoints";
import { HeadLensError } from "../../core/errors";
import { METRIC_SEQUENCES } from "../../core/headMetrics";
import { TimelineCheckpoint, TimelineListing, TimelineMetrics, TimelineProgress } from "../../protocol/timeline";
import type { EngineClient } from "../engineClient";
import { CachedSource } from "./byteSource";
import { readLightPth } from "./lightRead";
import { CheckpointDeps, modelCheckpoints, ModelCheckpoints } from "./modelCheckpoints";

export interface TimelineRequest {
  /** A model folder with checkpoints/, or a hub model's name. */
  model: string;
  /** How many checkpoints, or all of them. */
  checkpoints: number | "all";
  metrics: TimelineMetrics;
}

export interface TimelineHandlers {
  onListing?(listing: TimelineListing): void;
  onCheckpoint?(checkpoint: TimelineCheckpoint): void;
  onProgress?(progress: TimelineProgress): void;
  signal?: AbortSignal;
}

export interface TimelineResult {
  listing: TimelineListing;
  checkpoints: TimelineCheckpoint[];
  /** Bytes of checkpoints this run read (network or disk); 0 when everything came from the cache. */
  bytesRead: number;
}

/** Changes whenever what a cached result means changes (the metric sequences, the result's shape). */
const RESULT_VERSION = createHash("sha256")
  .update(JSON.stringify({ METRIC_SEQUENCES, v: 1 }))
  .digest("hex")
  .slice(0, 12);

export async function runTimeline(
  req: TimelineRequest,
  engine: EngineClient,
  deps: CheckpointDeps,
  on: TimelineHandlers = {},
): Promise<TimelineResult> {
  const model = await modelCheckpoints(req.model, deps, on.signal);
  const all = model.listing.checkpoints;
  if (all.length === 0)
    throw new HeadLensError(`${req.model}: has no checkpoints (files checkpoints/<name>_<number>.pth or .safetensors)`, "model.checkpoint");
  const chosen = req.checkpoints === "all" ? all : spreadCheckpoints(all, req.checkpoints);
  const listing: TimelineListing = {
    model: req.model,
    labelType: model.listing.labelType,
    labels: all.map((c) => c.label),
    chosen: chosen.map((c) => c.label),
    ignored: model.listing.ignored,
  };
  on.onListing?.(listing);
  const totalBytes = chosen.reduce((n, c) => n + (c.size ?? 0), 0);
  const progress: TimelineProgress = { done: 0, of: chosen.length, bytesRead: 0, totalBytes, step: "" };
  const report = (step: string) => on.onProgress?.({ ...progress, step });
  const out: TimelineCheckpoint[] = [];
  for (const c of chosen) {
    if (on.signal?.aborted) throw new HeadLensError("timeline cancelled (what was computed is kept for the next run)", "cancelled");
    const entry = await checkpointMetrics(
      c,
      req.metrics,
      model,
      engine,
      deps,
      on,
      (n) => ((progress.bytesRead += n), report(`reading ${c.file}`)),
      report,
    );
    out.push(entry);
    progress.done++;
    report(`${c.file} done`);
    on.onCheckpoint?.(entry);
  }
  return { listing, checkpoints: out, bytesRead: progress.bytesRead };
}

async function checkpointMetrics(
  c: CheckpointFile,
  mode: TimelineMetrics,
  model: ModelCheckpoints,
  engine: EngineClient,
  deps: CheckpointDeps,
  on: TimelineHandlers,
  onBytes: (n: number) => void,
  report: (step: string) => void,
): Promise<TimelineCheckpoint> {
  // The checkpoint's bytes, and what its figures also depend on (config, tokenizer files, the metric definition).
  const key = `${await model.key(c)}-${await model.identity()}`;
  const resultPath = join(deps.storageDir, "timeline", "results", `${key}-${mode}-${RESULT_VERSION}.json`);
  const hit = readResult(resultPath);
  if (hit) return { label: c.label, file: c.file, ...hit };
  let metrics: Omit<TimelineCheckpoint, "label" | "file">;
  if (mode === "light" && c.file.endsWith(".pth")) {
    const dir = join(deps.storageDir, "timeline", "light", key);
    if (!existsSync(join(dir, "light.json"))) {
      report(`reading ${c.file}`);
      const ranges = join(deps.storageDir, "timeline", "ranges", key);
      const source = new CachedSource(await model.source(c, on.signal), ranges);
      const counting = {
        label: source.label,
        size: source.size,
        read: async (s: number, e: number) => {
          const before = source.fetched;
          const bytes = await source.read(s, e);
          onBytes(source.fetched - before);
          return bytes;
        },
      };
      await readLightPth(counting, dir, { config: await model.config(), bos: await model.bosSource(), convert: deps.convert });
      rmSync(ranges, { recursive: true, force: true }); // the light folder holds what they did: one copy is enough
    }
    report(`measuring ${c.file}`);
    metrics = await engine.lightMetrics(dir, on.signal);
  } else {
    report(`opening ${c.file}`);
    let seen = 0;
    const onProgress = (p: { received: number }) => (onBytes(p.received - seen), (seen = p.received));
    const folder = await model.open(c, { signal: on.signal, onProgress, onStep: report });
    if (seen === 0 && c.size) onBytes(c.size); // not downloaded now: the engine reads the whole file from disk
    const { heads, composition } = await engine.metrics(folder);
    metrics = { heads: heads.map(({ copying, ...h }) => (mode === "full" ? { ...h, copying } : h)), composition };
  }
  writeResult(resultPath, metrics);
  return { label: c.label, file: c.file, ...metrics };
}

function readResult(path: string): Omit<TimelineCheckpoint, "label" | "file"> | undefined {
  try {
    const r = JSON.parse(readFileSync(path, "utf8"));
    return Array.isArray(r?.heads) && r?.composition ? r : undefined;
  } catch {
    return undefined; // absent or unreadable: computed again and rewritten
  }
}

function writeResult(path: string, r: object): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(r));
  renameSync(tmp, path);
}
