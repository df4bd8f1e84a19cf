/**
 * "Why": one head's attention score at (query, key) split exactly into query-side × key-side parts
 * of the residual stream, and its direct logit effect at the query split by source position
 * (EngineApi `explain`, on a run the worker keeps). The mathematics is core/scoreAttribution.ts.
 */

export interface ExplainParams {
  /** A recent `attention` run (the worker keeps the last two). */
  runId: string;
  layer: number;
  head: number;
  /** Query position (0 = the first token, BOS when it was prepended). */
  query: number;
  /** Explain only this key (≤ query); absent: every key 0…query. */
  key?: number;
}

export interface ExplainResult {
  runId: string;
  model: string;
  identity: string;
  layer: number;
  head: number;
  query: number;
  /** The residual stream's parts, in order: "embed", "pos", "L0H0" … (every earlier head), "bias". */
  components: string[];
  /** The query's strongest key, leaving out position 0 when it holds BOS (heads park spare attention there) and the query sees another key. */
  strongestKey: number;
  /** The positions explained: every key 0…query, or the one asked for. */
  keys: number[];
  /** [keys.length, C, C]: term[c][c'] = q_query^c · k_key^c' / √d_head (row = query side); they sum to the score. */
  terms: Float64Array;
  /** [keys.length, C, C]: each term minus its mean over keys 0…query, i.e. what it adds to this key's
   * score relative to the other keys (a term equal at every key does not move the softmax). */
  relative: Float64Array;
  /** [keys.length]: the score q·k/√d_head (TransformerLens's attn_scores), the terms' sum. */
  scores: Float64Array;
  /** [keys.length]: the attention weight (the pattern). */
  weights: Float64Array;
  /** For each earlier head, in component order: the position it attended to most at the query. */
  movedAtQuery: number[];
  /** [keys.length][earlier heads]: the same at each key. */
  movedAtKeys: number[][];
  /** The head's direct logit attribution at the query to the actual next token (null at the last position). */
  dla: number | null;
  /** [query + 1]: that attribution split by source position j (p_query,j · v_j W_O · direction); they sum to `dla`. */
  sources: Float64Array | null;
  elapsedMs: number;
}
