/**
 * Live attention: the model run forward on the user's text (EngineApi `attention`). Patterns are
 * typed arrays so they cross both boundaries without JSON; every run carries the model identity it
 * was computed from. The attention panel's API is in attentionPanel.ts.
 */
import type { TextScores } from "../core/textScores";
import type { HeadAblation } from "./whatIf";

export interface RunToken {
  id: number;
  /** Display form, as the CLI prints tokens: `'tok'` with Python repr escapes. */
  token: string;
  /** The decoded text (invalid UTF-8 as U+FFFD), for the token strip. */
  text: string;
  /** UTF-16 offsets in the input text; start === end for BOS and for ids given directly. */
  start: number;
  end: number;
}

export type AttentionInput =
  /** Tokenized with the model's tokenizer, BOS prepended (TransformerLens's to_tokens default). */
  | { text: string }
  /** Used as given (no BOS added). */
  | { tokens: number[] };

export interface AttentionParams {
  modelDir: string;
  input: AttentionInput;
  /** "full": every pattern as float32 (the CLI); "thumbnails": bytes, ≤ 256² per head (the panel). */
  patterns: "full" | "thumbnails";
  /** Next-token predictions listed per position (default 5). */
  topK?: number;
  /** Run with these heads ablated (whatIf.ts); none: the model as it is. */
  ablations?: HeadAblation[];
  /** false: the worker does not keep this run (runId ""), so the runs it keeps (the attention panel's) stay. */
  keep?: boolean;
}

export interface RunInfo {
  /** Names this run in the worker, which keeps its exact patterns for `attentionPattern`. */
  runId: string;
  model: string;
  /** Content hash of the model's files. */
  identity: string;
  nLayers: number;
  nHeads: number;
  nCtx: number;
  /** The BOS id when it was prepended, else null. */
  bos: number | null;
  tokens: RunToken[];
  /** Text tokens dropped from the start because the text was longer than n_ctx (BOS is kept). */
  truncated: number;
  /** The ablations this run was computed under ([] for the model as it is). */
  ablations: HeadAblation[];
}

export type PatternPayload =
  /** Per layer, [H, T, T] float32 (row = query position, column = key position). */
  | { kind: "full"; layers: Float32Array[] }
  /** Per layer, [H, S, S] bytes (255 = 1), max-pooled when T > S. */
  | { kind: "thumbnails"; size: number; layers: Uint8Array[] };

/** Streamed first, so patterns are on screen before the unembedding has run. */
export interface AttentionEvent {
  type: "patterns";
  run: RunInfo;
  patterns: PatternPayload;
  /** [L][H]: each head's previous-token and induction scores measured on this run's tokens (core/textScores.ts). */
  textScores: TextScores[][];
  elapsedMs: number;
}

export interface Prediction {
  id: number;
  token: string;
  p: number;
}

export interface NextTokenFit {
  id: number;
  token: string;
  /** 1 + how many tokens have a strictly higher logit. */
  rank: number;
  logProb: number;
}

export interface AttentionResult extends RunInfo {
  /** [T][k] next-token predictions at each position, most likely first. */
  top: Prediction[][];
  /** [T]: how the actual next token fared; null at the last position. */
  next: (NextTokenFit | null)[];
  /** [T, L, H] flat: each head's direct logit attribution to the actual next token (NaN at the last position). */
  dla: Float32Array;
  ep: string;
  timings: { tokenizeMs: number; patternsMs: number; totalMs: number };
}

export interface PatternParams {
  runId: string;
  layer: number;
  head: number;
}

export interface PatternResult extends PatternParams {
  T: number;
  /** [T, T] exact float32 weights. */
  weights: Float32Array;
}
