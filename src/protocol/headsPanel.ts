/** The host ↔ heads panel API, carried by the typed channel (channel.ts). */
import type { CompositionSet } from "../core/headMetrics";
import type { HeadRef } from "../core/heads";
import type { PathRef } from "../core/report";
import type { ReportSettings } from "../core/reportSettings";
import type { HeadResult } from "./engine";
import type { ModelSummary, Note, PageHostApi } from "./page";

/** How the panel is laid out (the webview's own choices, persisted with its state). */
export interface PanelView {
  /** Query chips in the notebook's order (QK·p^0.1, "rule") or by the QK they show ("score"). */
  querySort: "rule" | "score";
  legendOpen: boolean;
  /** Collapsed heads, by headKey. */
  collapsed: string[];
  /** The path each head shows (headKey → pathKey of an earlier head); absent: the direct path. */
  paths?: Record<string, string>;
  /** Where the reader was: the head under the sticky bar and its offset (px) below it; absent at
   * the top. The webview is re-created when its tab comes back (it keeps no context hidden). */
  anchor?: { key: string; offset: number };
}

/** What the webview persists with setState (and the serializer gets back after a restart). */
export interface PanelState {
  model: ModelSummary;
  settings: ReportSettings;
  heads: HeadResult[];
  pinned?: number;
  view?: PanelView;
  /** The model's composition scores (for each head's paths), once the host has them. */
  composition?: CompositionSet;
}

/** Served by the panel: what the host tells it (one-way notifications). */
export type HeadsPanelApi = {
  init: Note<{ model: ModelSummary; settings: ReportSettings }>;
  pending: Note<{ heads: HeadRef[]; via?: PathRef }>;
  progress: Note<{ fraction: number; layer: number; head: number; via?: PathRef }>;
  head: Note<{ head: HeadResult }>;
  finished: Note<{ cancelled: boolean; error?: string }>;
  /** Scrolls to the head (and shows this path of it; absent: the path it shows now). */
  reveal: Note<HeadRef & { via?: PathRef | null }>;
  /** The composition scores that order each head's paths (or why they are unavailable). */
  paths: Note<{ composition?: CompositionSet; error?: string }>;
};

/** Served by the host for the panel. */
export type HeadsPanelHostApi = PageHostApi & {
  applySettings: Note<{ settings: ReportSettings }>;
  analyzeHead: Note<HeadRef>;
  analyzeLayer: Note<{ layer: number }>;
  cancel: Note<Record<string, never>>;
  focusHead: Note<HeadRef>;
  copyReport: Note<HeadRef & { via?: PathRef }>;
  /** Analyzes one head's path through an earlier head (absent: its direct path) into this panel. */
  analyzePath: Note<HeadRef & { via?: PathRef }>;
};
