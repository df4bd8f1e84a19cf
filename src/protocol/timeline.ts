/**
 * The training timeline: a model's checkpoints and each one's head metrics (issue #24). The engine
 * part (`lightMetrics`) and what the host's timeline run reports to the CLI and the panel.
 */
import type { LabelType } from "../core/checkpoints";
import type { CompositionSet, PatternScores } from "../core/headMetrics";
import type { HeadRef } from "../core/heads";

/** light: every metric but copying, from the bytes it needs; full: `metrics` of the whole checkpoint (downloaded). */
export type TimelineMetrics = "light" | "full";
export const TIMELINE_METRICS: readonly TimelineMetrics[] = ["light", "full"];

/** Every metric but copying (which needs all of W_E and W_U). */
export interface LightMetrics {
  heads: (HeadRef & PatternScores)[];
  composition: CompositionSet;
}

/** One head of one checkpoint: the light metrics, and copying with `full`. */
export interface TimelineHead extends HeadRef, PatternScores {
  copying?: number;
}

/** One checkpoint's entry: exactly what `metrics --json` gives for it (copying only with `full`). */
export interface TimelineCheckpoint {
  label: number;
  /** Repository-relative path, `checkpoints/<name>`. */
  file: string;
  heads: TimelineHead[];
  composition: CompositionSet;
}

/** What a timeline run found before computing anything. */
export interface TimelineListing {
  /** The model as the user named it (a hub name or a folder). */
  model: string;
  labelType: LabelType;
  /** Every checkpoint's label, ascending (the chosen ones are `chosen`). */
  labels: number[];
  /** The labels this run computes, ascending. */
  chosen: number[];
  /** Listing entries that are not checkpoints, with why. */
  ignored: string[];
}

/** Progress of a timeline run, for stderr and the panel's progress. */
export interface TimelineProgress {
  /** Checkpoints done (from the cache or computed) of `of`. */
  done: number;
  of: number;
  /** Bytes read from checkpoints in this run (network or disk), and the checkpoints' total size. */
  bytesRead: number;
  totalBytes: number;
  /** What is being done now, in words. */
  step: string;
}

/** The engine's part: light metrics of a light folder (tensors.safetensors + light.json) the host wrote. */
export interface LightMetricsParams {
  dir: string;
}
