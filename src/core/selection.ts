/**
 * The notebook's selection heuristics over streamed per-key maxima:
 *   importance[k] = max_q QKn[q,k] · max_o OVn[k,o] · p[k]^0.1 ; keys = top n_keys
 *   queries of k  = top n_queries by QKn[q,k] · p[q]^0.1 (score shown: QKn[q,k])
 *   outputs of k  = top n_outputs by OVn[k,o]             (score shown: OVn[k,o])
 * Descending; equal values go to the lower id (deterministic where torch.topk is not).
 */
import { HeadCircuits } from "./circuits";
import { PathCircuits } from "./pathCircuits";
import { KeyReport, PathType, ReportSizes } from "./report";
import { ExactRow, exactRowFromDense } from "./exactRows";
import { topK } from "./topK";

export { topK } from "./topK";

export type { Scores } from "./topK";
type Scores = ArrayLike<number>;

/** p^0.1 for every token. */
export function priorWeights(prior: ArrayLike<number>): Float64Array {
  const out = new Float64Array(prior.length);
  for (let i = 0; i < prior.length; i++) out[i] = Math.pow(prior[i], 0.1);
  return out;
}

export function importance(maxQK: Scores, maxOV: Scores, priorW: Float64Array): Float64Array {
  const out = new Float64Array(maxQK.length);
  for (let k = 0; k < out.length; k++) out[k] = maxQK[k] * maxOV[k] * priorW[k];
  return out;
}

export type TokenLabel = (id: number) => string;

/** Where a report gets each key's QK column and OV row, exactly (exactRows.ts: fast; or computed in full). */
export interface KeyRows {
  qkCol(k: number): ExactRow;
  ovRow(k: number): ExactRow;
}

/** Key rows computed in full in JavaScript (O(V·d_head) each), for callers without kernels. */
export function denseKeyRows(circuits: HeadCircuits): KeyRows {
  return { qkCol: (k) => exactRowFromDense(circuits.qk.col(k)), ovRow: (k) => exactRowFromDense(circuits.ov.row(k)) };
}

/**
 * Builds the per-key part of the report for the selected keys. maxQK, maxOV and importance are
 * recomputed exactly (float64) from the key's column and row, and the keys re-sorted by that exact
 * importance, so the figures shown never carry the streamed pass's float32 rounding.
 */
export function keyReports(
  circuits: HeadCircuits,
  keys: number[],
  priorW: Float64Array,
  sizes: ReportSizes,
  label: TokenLabel,
  rows: KeyRows = denseKeyRows(circuits),
): KeyReport[] {
  const reports = keys.map((k): KeyReport => {
    const qk = rows.qkCol(k),
      ov = rows.ovRow(k);
    const maxQK = qk.max(),
      maxOV = ov.max();
    return {
      id: k,
      token: label(k),
      importance: maxQK * maxOV * priorW[k],
      maxQK,
      maxOV,
      queries: qk.top(sizes.nQueries, priorW).map((q) => ({ id: q, token: label(q), score: qk.at(q) })),
      outputs: ov.top(sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: ov.at(o) })),
    };
  });
  return reports.sort((a, b) => b.importance - a.importance || a.id - b.id);
}

/**
 * A path's key reports. q paths follow the direct rules (QK from the path, OV direct). k paths have
 * no OV side: importance = max_q QKn · p^0.1, no outputs. v paths have no QK side: importance =
 * max_o OVn · p^0.1 over sources, no queries. A missing figure is NaN (null in JSON).
 */
export function pathKeyReports(
  type: PathType,
  c: PathCircuits,
  keys: number[],
  priorW: Float64Array,
  sizes: ReportSizes,
  label: TokenLabel,
): KeyReport[] {
  if (type === "q") return keyReports(c as HeadCircuits, keys, priorW, sizes, label);
  const reports = keys.map((k): KeyReport => {
    if (type === "k") {
      const qk = c.qk!.col(k);
      const weighted = new Float64Array(qk.length);
      let maxQK = -Infinity;
      for (let q = 0; q < qk.length; q++) {
        weighted[q] = qk[q] * priorW[q];
        if (qk[q] > maxQK) maxQK = qk[q];
      }
      return {
        id: k,
        token: label(k),
        importance: maxQK * priorW[k],
        maxQK,
        maxOV: NaN,
        queries: topK(weighted, sizes.nQueries).map((q) => ({ id: q, token: label(q), score: qk[q] })),
        outputs: [],
      };
    }
    const ov = c.ov!.row(k);
    let maxOV = -Infinity;
    for (let o = 0; o < ov.length; o++) if (ov[o] > maxOV) maxOV = ov[o];
    return {
      id: k,
      token: label(k),
      importance: maxOV * priorW[k],
      maxQK: NaN,
      maxOV,
      queries: [],
      outputs: topK(ov, sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: ov[o] })),
    };
  });
  return reports.sort((a, b) => b.importance - a.importance || a.id - b.id);
}
