/** The one typed protocol between the extension host and the Head Lens panel (webview). */
import { HeadReport } from "../core/report";
import { HeadDetails } from "./headDetails";

export interface PanelSettings {
  nKeys: number;
  nQueries: number;
  nOutputs: number;
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

export interface ShownHead {
  report: HeadReport;
  details: HeadDetails;
  elapsedMs: number;
  cached: boolean;
}

/** What the webview persists with setState (and the serializer gets back after a restart). */
export interface PanelState {
  model: ModelSummary;
  settings: PanelSettings;
  heads: ShownHead[];
  pinned?: number;
}

export type HostToWebview =
  | { type: "init"; model: ModelSummary; settings: PanelSettings }
  | { type: "pending"; heads: { layer: number; head: number }[] }
  | { type: "progress"; fraction: number; layer: number; head: number }
  | { type: "head"; head: ShownHead }
  | { type: "finished"; cancelled: boolean; error?: string }
  | { type: "reveal"; layer: number; head: number };

export type WebviewToHost =
  | { type: "ready" }
  | { type: "applySettings"; settings: PanelSettings }
  | { type: "analyzeHead"; layer: number; head: number }
  | { type: "analyzeLayer"; layer: number }
  | { type: "cancel" }
  | { type: "focusHead"; layer: number; head: number }
  | { type: "copyReport"; layer: number; head: number };
