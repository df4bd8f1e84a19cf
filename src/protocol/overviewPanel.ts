/** The host ↔ model overview API. */
import type { ModelMetrics } from "../core/headMetrics";
import type { HeadRef } from "../core/heads";
import type { PathRef } from "../core/report";
import type { ModelSummary, Note, PageHostApi } from "./page";

/** Served by the overview webview. */
export type OverviewApi = {
  /** The model, and its metrics once computed (or why they could not be). */
  show: Note<{ model: ModelSummary; metrics?: ModelMetrics; error?: string }>;
};

/** Served by the host for the overview. */
export type OverviewHostApi = PageHostApi & {
  /** Opens the head's direct path in the heads panel. */
  openHead: Note<HeadRef>;
  /** Opens the head's path through an earlier head in the heads panel. */
  openPath: Note<HeadRef & { via: PathRef }>;
};
