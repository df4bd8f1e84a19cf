/**
 * What one token does in one head, in O(V·d_head) (the editor hover): its importance as a key and
 * its rank among all V keys when the head's importance intervals are at hand, its top outputs, and
 * the keys it most prefers as a query.
 */
import { HeadCircuits } from "../core/circuits";
import { TokenLabel, topK } from "../core/selection";
import { TokenInHead } from "../protocol/headDetails";
import { ImportanceIntervals } from "./headJob";
import { keyFigures } from "./keyRank";

/** Straddling keys evaluated exactly for a rank; beyond this the rank is shown as a range. */
const MAX_EXACT_RANK_KEYS = 64;

const exactImportance = (c: HeadCircuits, k: number, priorW: Float64Array) => keyFigures(c, k, priorW).importance;

/**
 * A head's per-key importance for ranks: intervals from any strategy, and the rounding bound of a
 * float32-evaluated importance (keyRank.ts importanceRounding) to widen the exact ones (lo = hi) by.
 */
export interface RankSource {
  intervals: ImportanceIntervals;
  rounding: (k: number) => number;
}

export function tokenInHead(c: HeadCircuits, tokenId: number, layer: number, head: number, priorW: Float64Array, n: number, label: TokenLabel, importance?: RankSource): TokenInHead {
  const row = c.ov.row(tokenId); // OVn[token, :]
  const asQuery = c.qk.row(tokenId); // QKn[token, :]
  const imp = exactImportance(c, tokenId, priorW);
  const above = (v: number, k: number) => v > imp || (v === imp && k < tokenId);
  let keyRank = 0, keyRankMax: number | undefined;
  if (importance) {
    // Keys surely above, plus keys whose interval straddles imp: exact when few, else a range. A
    // float32-evaluated importance (lo = hi) is widened by its rounding bound first: near-ties with
    // the token's float64 importance are then settled in float64 too.
    const straddling: number[] = [], { intervals, rounding } = importance;
    keyRank = 1;
    for (let k = 0; k < intervals.lo.length; k++) {
      if (k === tokenId) continue;
      let lo = intervals.lo[k], hi = intervals.hi[k];
      if (lo === hi) {
        const e = rounding(k);
        lo -= e;
        hi += e;
      }
      if (lo > imp) keyRank++;
      else if (hi >= imp) straddling.push(k);
    }
    if (straddling.length <= MAX_EXACT_RANK_KEYS) {
      for (const k of straddling) if (above(exactImportance(c, k, priorW), k)) keyRank++;
    } else keyRankMax = keyRank + straddling.length;
  }
  return {
    layer, head, keyRank, ...(keyRankMax ? { keyRankMax } : {}), importance: imp,
    topOutputs: topK(row, n).map((o) => ({ id: o, token: label(o), score: row[o] })),
    preferredKeys: topK(asQuery, n).map((k) => ({ id: k, token: label(k), score: asQuery[k] })),
  };
}
