/** The host ↔ "which heads use a token" table API. */
import type { HeadRef } from "../core/heads";
import type { PriorSpec } from "../core/priorSpec";
import type { TokenHead } from "./engine";
import type { ModelSummary, Note, PageHostApi } from "./page";

/** What the token table shows: one token of one model, under one prior. */
export interface TokenQuery {
  model: ModelSummary;
  token: { id: number; token: string };
  /** The prior the ranks were computed under (importance includes p(key)^0.1). */
  prior: PriorSpec;
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
export type TokenTableHostApi = PageHostApi & {
  openHead: Note<HeadRef>;
  cancel: Note<Record<string, never>>;
  /** Runs the same token again (after a cancel or an error). */
  rerun: Note<Record<string, never>>;
};
