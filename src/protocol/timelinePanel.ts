/**
 * The host ↔ Training Timeline page API (issue #24): a timeline run streamed to the page as it goes
 * (its listing, each checkpoint's metrics, progress, how it ended), the page's settings row (light or
 * full metrics, how many checkpoints) re-running it, Cancel, and a point of a chart opening that
 * checkpoint's overview or heads panel.
 */
import type { HeadRef } from "../core/heads";
import type { Note, PageHostApi } from "./page";
import type { TimelineCheckpoint, TimelineListing, TimelineMetrics, TimelineProgress } from "./timeline";

/** What a run computes: the settings row. */
export interface TimelineSettings {
  metrics: TimelineMetrics;
  /** How many checkpoints (spread evenly in log label space, first and last always), or all of them. */
  checkpoints: number | "all";
}

export const DEFAULT_TIMELINE_SETTINGS: TimelineSettings = { metrics: "light", checkpoints: 16 };
/** The settings row's limits on a number of checkpoints. */
export const MIN_TIMELINE_CHECKPOINTS = 2;
export const MAX_TIMELINE_CHECKPOINTS = 1000;

/** What the page saves (setState) and a restored panel re-runs. */
export interface TimelinePageState {
  /** The model as runTimeline takes it: a model folder or a hub model's name. */
  model: string;
  /** Its name, for the title. */
  name: string;
  settings: TimelineSettings;
}

/** Every message about a run names it: a page drops what an older run still sends. */
type OfRun<T> = T & { run: number };

/** Served by the timeline page. */
export type TimelinePanelApi = {
  /** A run starts: the page clears its charts and shows these settings. */
  start: Note<OfRun<TimelinePageState>>;
  listing: Note<OfRun<{ listing: TimelineListing }>>;
  /** One checkpoint's metrics, in ascending label order; `computedAt`: the host's Date.now() when they were ready. */
  checkpoint: Note<OfRun<{ checkpoint: TimelineCheckpoint; computedAt: number }>>;
  progress: Note<OfRun<{ progress: TimelineProgress }>>;
  finished: Note<OfRun<{ outcome: "done" | "cancelled" | "failed"; message?: string; elapsedMs: number; bytesRead: number }>>;
};

/** Where a chart's point leads. */
export type CheckpointView = "overview" | "heads";

/** Served by the host for the timeline page. */
export type TimelinePanelHostApi = PageHostApi & {
  /** The settings row: run again with these (cached checkpoints come back at once). */
  rerun: Note<TimelineSettings>;
  cancel: Note<{ run: number }>;
  /** Open the checkpoint labelled `label` as a model: its overview, or `head` in the heads panel. */
  open: Note<{ label: number; view: CheckpointView; head?: HeadRef }>;
};
