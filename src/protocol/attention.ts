/**
 * Live attention: the model run forward on the user's text (EngineApi `attention`), and the
 * attention panel's API (host ↔ webview). Patterns are typed arrays so they cross both boundaries
 * without JSON; every run carries the model identity it was computed from.
 */
import type { HeadMetrics } from "./engine";

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

// ── Host ↔ attention panel ─────────────────────────────────────────────────────────────

export interface HeadChoice {
  layer: number;
  head: number;
}

/** What the panel shows about one position: predictions and the chosen head's attention from it. */
export interface PanelRun extends RunInfo {
  patterns: PatternPayload;
  /** Where the text came from, e.g. "notes.py, lines 3–40". */
  source: string;
  elapsedMs: number;
}

export interface PanelPredictions {
  runId: string;
  top: Prediction[][];
  next: (NextTokenFit | null)[];
  dla: Float32Array;
  timings: AttentionResult["timings"];
  ep: string;
}

/**
 * What a window reload needs to run the panel again, kept in the panel's saved state: the model,
 * where the text is (UTF-16 offsets into the file) and the chosen head.
 */
export interface AttentionSession {
  modelId: string;
  uri: string;
  start: number;
  end: number;
  /** "selection", "text around the cursor", … (the caption's words). */
  kind: string;
  head: HeadChoice | null;
}

type Note<P> = { params: P; result: void };

/** Served by the attention panel. */
export type AttentionPanelApi = {
  /** A run started (the panel dims what it shows). */
  running: Note<{ source: string }>;
  run: Note<PanelRun>;
  predictions: Note<PanelPredictions>;
  pattern: Note<PatternResult>;
  metrics: Note<{ identity: string; heads: HeadMetrics[] } | { identity: string; unavailable: string }>;
  /** The chosen head (null: none, e.g. after a change of model) and/or the cursor's position. */
  chosen: Note<{ head?: HeadChoice | null; position?: number }>;
  failed: Note<{ message: string }>;
  /** Stop Attention Highlights: the panel keeps the last run but no longer follows the editor. */
  stopped: Note<Record<string, never>>;
  /** Saved with the panel's state for a reload (null: nothing to run again, e.g. after Stop). */
  session: Note<AttentionSession | null>;
};

/** Served by the host for the attention panel. */
export type AttentionPanelHostApi = {
  ready: Note<Record<string, never>>;
  /** The user picked a head (click on its thumbnail): enlarge it and use it for editor highlights. */
  chooseHead: Note<HeadChoice & { runId: string }>;
  /** The user picked a position in the token strip: reveal its token in the editor. */
  choosePosition: Note<{ runId: string; position: number }>;
  /** "Change model…": run the same text under another model (Choose Attention Model). */
  chooseModel: Note<Record<string, never>>;
};
