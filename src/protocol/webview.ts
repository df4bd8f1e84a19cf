/** The host ↔ panel (webview) API, carried by the typed channel (channel.ts). */
import type { ReportSizes, HeadReport } from "../core/report";
import type { Identity } from "./engine";
import type { HeadDetails } from "./headDetails";

export interface PanelSettings extends ReportSizes {
  /** "bundled" | "uniform" | a words.txt path. */
  priors: string;
}

export interface ModelSummary {
  id: string;
  name: string;
  nLayers: number;
  nHeads: number;
  dVocab: number;
}

export interface HeadRef {
  layer: number;
  head: number;
}

export interface ShownHead {
  report: HeadReport;
  details: HeadDetails;
  elapsedMs: number;
  cached: boolean;
  /** The settings it was computed with: the panel shows it only while they are the ones displayed. */
  computedWith: PanelSettings;
  /** What it was computed from (model and prior content). */
  identity: Identity;
}

/** How the panel is laid out (the webview's own choices, persisted with its state). */
export interface PanelView {
  /** Query chips in the notebook's order (QK·p^0.1, "rule") or by the QK they show ("score"). */
  querySort: "rule" | "score";
  legendOpen: boolean;
  /** Collapsed heads, "layer:head". */
  collapsed: string[];
}

/** What the webview persists with setState (and the serializer gets back after a restart). */
export interface PanelState {
  model: ModelSummary;
  settings: PanelSettings;
  heads: ShownHead[];
  pinned?: number;
  view?: PanelView;
}

type Note<P> = { params: P; result: void };

/** Served by the panel: what the host tells it (one-way notifications). */
export type PanelApi = {
  init: Note<{ model: ModelSummary; settings: PanelSettings }>;
  pending: Note<{ heads: HeadRef[] }>;
  progress: Note<{ fraction: number; layer: number; head: number }>;
  head: Note<{ head: ShownHead }>;
  finished: Note<{ cancelled: boolean; error?: string }>;
  reveal: Note<HeadRef>;
};

/** Served by the host for the panel. */
export type PanelHostApi = {
  ready: Note<Record<string, never>>;
  applySettings: Note<{ settings: PanelSettings }>;
  analyzeHead: Note<HeadRef>;
  analyzeLayer: Note<{ layer: number }>;
  cancel: Note<Record<string, never>>;
  focusHead: Note<HeadRef>;
  copyReport: Note<HeadRef>;
};

/** Two settings are the same analysis request (what the cards on screen must agree with). */
export function sameSettings(a: PanelSettings, b: PanelSettings): boolean {
  return a.nKeys === b.nKeys && a.nQueries === b.nQueries && a.nOutputs === b.nOutputs && a.priors === b.priors;
}
