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

export function tokenInHead(c: HeadCircuits, tokenId: number, layer: number, head: number, priorW: Float64Array, n: number, label: TokenLabel, importance?: ImportanceIntervals): TokenInHead {
  const row = c.ov.row(tokenId); // OVn[token, :]
  const asQuery = c.qk.row(tokenId); // QKn[token, :]
  const imp = exactImportance(c, tokenId, priorW);
  const above = (v: number, k: number) => v > imp || (v === imp && k < tokenId);
  let keyRank = 0, keyRankMax: number | undefined;
  if (importance) {
    // Keys surely above, plus keys whose interval straddles imp: exact when few, else a range.
    const straddling: number[] = [];
    keyRank = 1;
    for (let k = 0; k < importance.lo.length; k++) {
      if (k === tokenId) continue;
      const lo = importance.lo[k], hi = importance.hi[k];
      if (lo === hi ? above(lo, k) : lo > imp) keyRank++;
      else if (lo !== hi && hi >= imp) straddling.push(k);
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
