/**
 * The host ↔ patching page API ("Compare with a Corrupted Copy…"): the clean and the corrupted text's
 * tokens while the user edits the copy, then the heads × layers activation-patching grid (whatIf.ts),
 * and for a chosen head its per-position row and its pattern in both runs.
 */
import type { HeadRef } from "../core/heads";
import type { RunToken } from "./attention";
import type { Note, PageHostApi } from "./page";
import type { PatchResult } from "./whatIf";

export interface PatchingTexts {
  model: string;
  /** Where each text is ("notes.py, selection, lines 3–4"; "Untitled-1"). */
  cleanSource: string;
  corruptSource: string;
  clean: RunToken[];
  corrupt: RunToken[];
}

/** A head's pattern in both runs (weights in [0, 1], T × T, or thumbnails S × S of longer texts). */
export interface PatchingPatterns extends HeadRef {
  /** Names the patch result the head was chosen in. */
  key: string;
  size: number;
  clean: Float32Array;
  corrupt: Float32Array;
}

/** Head (layer, head) patched at one position at a time: [T] metrics (PatchParams.positionsOf). */
export interface PatchingRow extends HeadRef {
  key: string;
  row: Float64Array;
}

/** Served by the patching page. */
export type PatchingPanelApi = {
  texts: Note<PatchingTexts>;
  /** A patch is being computed (the page dims the last grid). */
  running: Note<Record<string, never>>;
  result: Note<PatchResult & { key: string }>;
  /** One head's per-position patching in result `key`, computed when the head is first chosen. */
  positions: Note<PatchingRow>;
  patterns: Note<PatchingPatterns>;
  failed: Note<{ message: string }>;
};

/** Served by the host for the patching page. */
export type PatchingPanelHostApi = PageHostApi & {
  /** A cell of the grid: show that head's per-position row and its pattern in both runs. */
  chooseHead: Note<HeadRef & { key: string }>;
  /** The metric's tokens, as typed (one token of the model each, e.g. " point"); "": the default (the clean / corrupted run's top prediction). */
  metricTokens: Note<{ answer: string; wrong: string }>;
};
