/** The host ↔ webview APIs of the model overview and of the "which heads use a token" table. */
import type { PathRef } from "../core/report";
import type { ModelMetrics, TokenHead } from "./engine";
import type { HeadRef, ModelSummary } from "./webview";

type Note<P> = { params: P; result: void };

/** Served by the overview webview. */
export type OverviewApi = {
  /** The model, and its metrics once computed (or why they could not be). */
  show: Note<{ model: ModelSummary; metrics?: ModelMetrics; error?: string }>;
};

/** Served by the host for the overview. */
export type OverviewHostApi = {
  ready: Note<Record<string, never>>;
  /** Opens the head's direct path in the heads panel. */
  openHead: Note<HeadRef>;
  /** Opens the head's path through an earlier head in the heads panel. */
  openPath: Note<HeadRef & { via: PathRef }>;
};

/** What the token table shows: one token of one model, under one prior. */
export interface TokenQuery {
  model: ModelSummary;
  token: { id: number; token: string };
  /** The prior the ranks were computed under (importance includes p(key)^0.1). */
  priors: string;
  /** Heads the model has: the table is complete when it has this many rows. */
  total: number;
}

/** Served by the token-table webview. */
export type TokenTableApi = {
  /** A new query (clears the table). */
  start: Note<TokenQuery>;
  head: Note<{ head: TokenHead }>;
  progress: Note<{ fraction: number }>;
  finished: Note<{ cancelled: boolean; error?: string }>;
};

/** Served by the host for the token table. */
export type TokenTableHostApi = {
  ready: Note<Record<string, never>>;
  openHead: Note<HeadRef>;
  cancel: Note<Record<string, never>>;
  /** Runs the same token again (after a cancel or an error). */
  rerun: Note<Record<string, never>>;
};
