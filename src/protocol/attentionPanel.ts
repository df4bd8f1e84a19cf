/** The host ↔ attention panel API: the last run on the user's text, its predictions and the chosen head. */
import type { HeadMetrics } from "../core/headMetrics";
import type { HeadRef } from "../core/heads";
import type { TextScores } from "../core/textScores";
import type { PathRef } from "../core/report";
import type { AttentionResult, NextTokenFit, PatternPayload, PatternResult, Prediction, RunInfo } from "./attention";
import type { ExplainResult } from "./explain";
import type { Note, PageHostApi } from "./page";
import type { HeadAblation } from "./whatIf";

/** What the panel shows about one position: predictions and the chosen head's attention from it. */
export interface PanelRun extends RunInfo {
  patterns: PatternPayload;
  /** [L][H]: each head's scores measured on this run's text. */
  textScores: TextScores[][];
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
 * Under an ablation the panel shows the ablated run (`run`, `predictions`, `pattern`) against this: the
 * same text run on the model as it is. `runId` names the ablated run it is compared with.
 */
export interface PanelBaseline {
  runId: string;
  baselineRunId: string;
  patterns: PatternPayload;
  top: Prediction[][];
  next: (NextTokenFit | null)[];
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
  head: HeadRef | null;
}

/** Served by the attention panel. */
export type AttentionPanelApi = {
  /** A run started (the panel dims what it shows). */
  running: Note<{ source: string }>;
  run: Note<PanelRun>;
  predictions: Note<PanelPredictions>;
  pattern: Note<PatternResult>;
  metrics: Note<{ identity: string; heads: HeadMetrics[] } | { identity: string; unavailable: string }>;
  /** The chosen head (null: none, e.g. after a change of model) and/or the cursor's position. */
  chosen: Note<{ head?: HeadRef | null; position?: number }>;
  failed: Note<{ message: string }>;
  /** Stop Attention Highlights: the panel keeps the last run but no longer follows the editor. */
  stopped: Note<Record<string, never>>;
  /** Why the chosen head attends from `query` to `keys[0]` (explain.ts), for the panel's Why section. */
  why: Note<ExplainResult>;
  /** The Why of this cell could not be computed (e.g. the run it names was replaced). */
  whyFailed: Note<HeadRef & { message: string; query: number; key: number | "strongest" }>;
  /** The heads ablated now ([]: the model as it is); the runs that follow are computed under them. */
  ablations: Note<{ ablations: HeadAblation[]; label: string }>;
  /** The unablated run of the same text, for the comparison (only while something is ablated). */
  baseline: Note<PanelBaseline>;
  /** The enlarged head's exact pattern in the baseline run; `runId` is the ablated run it is compared with. */
  baselinePattern: Note<PatternResult & { baselineRunId: string }>;
  /** Saved with the panel's state for a reload (null: nothing to run again, e.g. after Stop). */
  session: Note<AttentionSession | null>;
};

/** Served by the host for the attention panel. */
export type AttentionPanelHostApi = PageHostApi & {
  /** The user picked a head (click on its thumbnail): enlarge it and use it for editor highlights. */
  chooseHead: Note<HeadRef & { runId: string }>;
  /** The user picked a position in the token strip: reveal its token in the editor. */
  choosePosition: Note<{ runId: string; position: number }>;
  /**
   * Why does head (layer, head) attend from `query` to `key` on run `runId`: a cell of the enlarged
   * head, or a link to an earlier head's part (that head is chosen first). No key: its strongest non-BOS key.
   */
  why: Note<HeadRef & { runId: string; query: number; key?: number }>;
  /** A Why part's link: head (layer, head)'s path through an earlier head (`via`), in the heads panel. */
  openPath: Note<HeadRef & { via: PathRef }>;
  /** "Change model…": run the same text under another model (Choose Attention Model). */
  chooseModel: Note<Record<string, never>>;
  /** The ablate toggles and the path menu: the heads to ablate from now on (replaces the list). */
  ablate: Note<{ ablations: HeadAblation[] }>;
  /** "Restore model": no ablation any more (Head Lens: Restore Model does the same). */
  restoreModel: Note<Record<string, never>>;
};
