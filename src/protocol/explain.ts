/**
 * "Why": one head's attention score at (query, key) split exactly into query-side × key-side parts
 * of the residual stream, and its direct logit effect at the query split by source position
 * (EngineApi `explain`, on a run the worker keeps). The mathematics is core/scoreAttribution.ts.
 */
import type { ScoreAttribution } from "../core/scoreAttribution";

export interface ExplainParams {
  /** A recent `attention` run (the worker keeps the last two). */
  runId: string;
  layer: number;
  head: number;
  /** Query position (0 = the first token, BOS when it was prepended). */
  query: number;
  /** Explain only this key (≤ query), or only the query's strongest key (`strongestKey`); absent: every key 0…query. */
  key?: number | "strongest";
}

export interface ExplainResult extends ScoreAttribution {
  runId: string;
  model: string;
  identity: string;
  layer: number;
  head: number;
  query: number;
  /** The query's strongest key, leaving out position 0 when it holds BOS (heads park spare attention there) and the query sees another key. */
  strongestKey: number;
  elapsedMs: number;
}
