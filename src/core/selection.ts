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

export type Scores = ArrayLike<number>;

/** Indices of the n largest values, descending, ties to the lower index; NaN ranks last. */
export function topK(values: Scores, n: number): number[] {
  const k = Math.min(n, values.length);
  if (k <= 0) return [];
  // Bounded min-heap of candidate indices keyed by (value, -index).
  const heap: number[] = [];
  const less = (a: number, b: number) => {
    const va = key(values[a]), vb = key(values[b]);
    return va < vb || (va === vb && a > b);
  };
  const sift = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0; ) {
        const p = (j - 1) >> 1;
        if (!less(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (less(heap[0], i)) {
      heap[0] = i;
      sift(0);
    }
  }
  return heap.sort((a, b) => (less(a, b) ? 1 : less(b, a) ? -1 : 0));
}

function key(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}

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

/**
 * Builds the per-key part of the report for the selected keys (each O(V·d_head)). maxQK, maxOV and
 * importance are recomputed exactly (float64) from the key's column and row, and the keys re-sorted
 * by that exact importance, so the figures shown never carry the streamed pass's float32 rounding.
 */
export function keyReports(circuits: HeadCircuits, keys: number[], priorW: Float64Array, sizes: ReportSizes, label: TokenLabel): KeyReport[] {
  const reports = keys.map((k): KeyReport => {
    const qk = circuits.qk.col(k);
    const weighted = new Float64Array(qk.length);
    let maxQK = -Infinity;
    for (let q = 0; q < qk.length; q++) {
      weighted[q] = qk[q] * priorW[q];
      if (qk[q] > maxQK) maxQK = qk[q];
    }
    const ov = circuits.ov.row(k);
    let maxOV = -Infinity;
    for (let o = 0; o < ov.length; o++) if (ov[o] > maxOV) maxOV = ov[o];
    return {
      id: k,
      token: label(k),
      importance: maxQK * maxOV * priorW[k],
      maxQK,
      maxOV,
      queries: topK(weighted, sizes.nQueries).map((q) => ({ id: q, token: label(q), score: qk[q] })),
      outputs: topK(ov, sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: ov[o] })),
    };
  });
  return reports.sort((a, b) => b.importance - a.importance || a.id - b.id);
}

/**
 * A path's key reports. q paths follow the direct rules (QK from the path, OV direct). k paths have
 * no OV side: importance = max_q QKn · p^0.1, no outputs. v paths have no QK side: importance =
 * max_o OVn · p^0.1 over sources, no queries. A missing figure is NaN (null in JSON).
 */
export function pathKeyReports(type: PathType, c: PathCircuits, keys: number[], priorW: Float64Array, sizes: ReportSizes, label: TokenLabel): KeyReport[] {
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
        id: k, token: label(k), importance: maxQK * priorW[k], maxQK, maxOV: NaN,
        queries: topK(weighted, sizes.nQueries).map((q) => ({ id: q, token: label(q), score: qk[q] })), outputs: [],
      };
    }
    const ov = c.ov!.row(k);
    let maxOV = -Infinity;
    for (let o = 0; o < ov.length; o++) if (ov[o] > maxOV) maxOV = ov[o];
    return {
      id: k, token: label(k), importance: maxOV * priorW[k], maxQK: NaN, maxOV,
      queries: [], outputs: topK(ov, sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: ov[o] })),
    };
  });
  return reports.sort((a, b) => b.importance - a.importance || a.id - b.id);
}
