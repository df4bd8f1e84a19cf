/**
 * What one token does in one head, in O(V·d_head) (the editor hover): its importance as a key and
 * its rank among all V keys (core/keyRank.ts: the token table's meaning) when the head's importance
 * intervals are at hand, its top outputs, and the keys it most prefers as a query.
 */
import { HeadCircuits } from "../core/circuits";
import { classifyKeys, countAbove, ImportanceIntervals } from "../core/keyRank";
import { TokenLabel, topK } from "../core/selection";
import { TokenInHead } from "../protocol/headDetails";
import { keyFigures } from "./keyRank";

/** Open keys evaluated exactly for a rank; beyond this the hover shows a range (the token table
 * makes it exact with float32 batches, too slow for a hover). */
const MAX_EXACT_RANK_KEYS = 64;

/**
 * A head's per-key importance for ranks: intervals from any strategy, and the rounding bound of a
 * float32-evaluated importance (keyRank.ts importanceRounding) to widen the exact ones (lo = hi) by.
 */
export interface RankSource {
  intervals: ImportanceIntervals;
  rounding: (k: number) => number;
}

export function tokenInHead(
  c: HeadCircuits,
  tokenId: number,
  layer: number,
  head: number,
  priorW: Float64Array,
  n: number,
  label: TokenLabel,
  importance?: RankSource,
): TokenInHead {
  const row = c.ov.row(tokenId); // OVn[token, :]
  const asQuery = c.qk.row(tokenId); // QKn[token, :]
  const exact = (k: number) => keyFigures(c, k, priorW).importance;
  const imp = exact(tokenId);
  let rank: Pick<TokenInHead, "keyRank" | "keyRankMax"> = {};
  if (importance) {
    const { above, open } = classifyKeys(importance.intervals, importance.rounding, tokenId, imp);
    rank =
      open.length <= MAX_EXACT_RANK_KEYS
        ? { keyRank: above + countAbove(open, exact, tokenId, imp) }
        : { keyRank: above, keyRankMax: above + open.length };
  }
  return {
    layer,
    head,
    ...rank,
    importance: imp,
    topOutputs: topK(row, n).map((o) => ({ id: o, token: label(o), score: row[o] })),
    preferredKeys: topK(asQuery, n).map((k) => ({ id: k, token: label(k), score: asQuery[k] })),
  };
}
