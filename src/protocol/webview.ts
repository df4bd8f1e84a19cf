/** The host ↔ panel (webview) API, carried by the typed channel (channel.ts). */
import type { ReportSizes, HeadReport, PathRef } from "../core/report";
import type { Identity, ModelMetrics } from "./engine";
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
  dModel: number;
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
  /** The path each head shows ("layer:head" → pathKey of an earlier head); absent: the direct path. */
  paths?: Record<string, string>;
  /** Where the reader was: the head under the sticky bar and its offset (px) below it; absent at
   * the top. The webview is re-created when its tab comes back (it keeps no context hidden). */
  anchor?: { key: string; offset: number };
}

/** What the webview persists with setState (and the serializer gets back after a restart). */
export interface PanelState {
  model: ModelSummary;
  settings: PanelSettings;
  heads: ShownHead[];
  pinned?: number;
  view?: PanelView;
  /** The model's composition scores (for each head's paths), once the host has them. */
  composition?: ModelMetrics["composition"];
}

type Note<P> = { params: P; result: void };

/** Served by the panel: what the host tells it (one-way notifications). */
export type PanelApi = {
  init: Note<{ model: ModelSummary; settings: PanelSettings }>;
  pending: Note<{ heads: HeadRef[]; via?: PathRef }>;
  progress: Note<{ fraction: number; layer: number; head: number; via?: PathRef }>;
  head: Note<{ head: ShownHead }>;
  finished: Note<{ cancelled: boolean; error?: string }>;
  /** Scrolls to the head (and shows this path of it; absent: the path it shows now). */
  reveal: Note<HeadRef & { via?: PathRef | null }>;
  /** The composition scores that order each head's paths (or why they are unavailable). */
  paths: Note<{ composition?: ModelMetrics["composition"]; error?: string }>;
};

/** Served by the host for the panel. */
export type PanelHostApi = {
  ready: Note<Record<string, never>>;
  applySettings: Note<{ settings: PanelSettings }>;
  analyzeHead: Note<HeadRef>;
  analyzeLayer: Note<{ layer: number }>;
  cancel: Note<Record<string, never>>;
  focusHead: Note<HeadRef>;
  copyReport: Note<HeadRef & { via?: PathRef }>;
  /** Analyzes one head's path through an earlier head (absent: its direct path) into this panel. */
  analyzePath: Note<HeadRef & { via?: PathRef }>;
};

/** "0:3:k" for a path through L0H3's keys; "" for the direct path. */
export function pathKey(via: PathRef | undefined | null): string {
  return via ? `${via.layer}:${via.head}:${via.type}` : "";
}

export function parsePathKey(key: string | undefined): PathRef | undefined {
  const m = /^(\d+):(\d+):([kqv])$/.exec(key ?? "");
  return m ? { layer: Number(m[1]), head: Number(m[2]), type: m[3] as PathRef["type"] } : undefined;
}

/** The range each report size may take (settings outside are clamped; the panel's fields refuse them). */
export const SIZE_LIMITS = { nKeys: { min: 1, max: 200 }, nQueries: { min: 0, max: 500 }, nOutputs: { min: 0, max: 500 } } as const;

/** "keys 5 · queries 20 · outputs 20 · prior bundled" (the log names a words file by its path, the panel by its name). */
export function describeSettings(s: PanelSettings, prior = s.priors): string {
  return `keys ${s.nKeys} · queries ${s.nQueries} · outputs ${s.nOutputs} · prior ${prior}`;
}

/** Two settings are the same analysis request (what the cards on screen must agree with). */
export function sameSettings(a: PanelSettings, b: PanelSettings): boolean {
  return a.nKeys === b.nKeys && a.nQueries === b.nQueries && a.nOutputs === b.nOutputs && a.priors === b.priors;
}
