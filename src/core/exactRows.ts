/**
 * Rows of a factored matrix as reports need them: exact float64 values — the very numbers
 * FactoredMatrix.row gives (sequential float64 dot products) — without computing all of them in
 * JavaScript, which costs ≈ 5 ms per 48k-entry row and 16–21 rows per head. A float32 row from the
 * kernels (one GEMM for all the rows asked) puts every entry within ±b of its exact value,
 *   b_j = 1.01·(γ₃₂ + γ₆₄)·‖x‖·‖y_j‖ + 2r·2⁻¹²⁶   (γ_n = r·u/(1 − r·u), any summation order),
 * and only the entries whose band can change the answer are recomputed exactly: the max, the top n
 * (by value·weight), the bottom n and counts above a threshold are then those of the exact row,
 * ties to the lower index as topK breaks them.
 */
import type { HeadCircuits } from "./circuits";
import type { FactoredMatrix, ReductionKernels } from "./factored";
import type { KeyRows } from "./selection";
import { gammaF32 } from "./normSplitBounds";
import { keepLargest, topK } from "./topK";

export interface ExactRow {
  /** Entry j exactly: FactoredMatrix.row(i)[j]. */
  at(j: number): number;
  max(): number;
  /** The n largest value·weight[j] (weights ≥ 0; none: value), descending, ties to the lower index. */
  top(n: number, weights?: ArrayLike<number>): number[];
  /** The n smallest values, ascending, ties to the lower index (topK of the negated row). */
  bottom(n: number): number[];
  /** #{j : value_j > t}. */
  countAbove(t: number): number;
}

/** An ExactRow over a row computed in full (the plain-JavaScript path). */
export function exactRowFromDense(row: Float64Array): ExactRow {
  return {
    at: (j) => row[j],
    max: () => {
      let m = -Infinity;
      for (let j = 0; j < row.length; j++) if (row[j] > m) m = row[j];
      return m;
    },
    top: (n, w) => topK(w ? row.map((x, j) => x * w[j]) : row, n),
    bottom: (n) =>
      topK(
        row.map((x) => -x),
        n,
      ),
    countAbove: (t) => {
      let c = 0;
      for (let j = 0; j < row.length; j++) if (row[j] > t) c++;
      return c;
    },
  };
}

/** Exact rows `rows` of m: one float32 GEMM, then exact float64 entries only where they matter. */
export async function exactRows(m: FactoredMatrix, rows: number[], k: ReductionKernels): Promise<ExactRow[]> {
  if (!k.rowsOf || rows.length === 0) return rows.map((i) => exactRowFromDense(m.row(i)));
  const r = m.rank,
    V = m.cols;
  const [f32, yNorms] = await Promise.all([k.rowsOf(m.gatherRows(rows), rows.length, m.right, V, r), m.rightNorms(k)]);
  for (let j = 0; j < f32.length; j++) if (!Number.isFinite(f32[j])) return rows.map((i) => exactRowFromDense(m.row(i)));
  const g = 1.01 * (gammaF32(r) + r * 2 ** -52);
  return rows.map((i, n) => {
    let xn = 0;
    for (let e = i * r; e < (i + 1) * r; e++) xn += m.left[e] * m.left[e];
    // Entry j's band is c·‖y_j‖ + tiny: 2r·2⁻¹²⁶ covers products and partial sums a kernel may
    // flush to zero below float32's normal range. Per column, so short columns (most tokens) need no recomputation.
    return bandedRow(m, i, f32.subarray(n * V, (n + 1) * V), { yNorms, c: g * Math.sqrt(xn) * (1 + 2 ** -40), tiny: 2 * r * 2 ** -126 });
  });
}

/** Entry j of a float32 row is within c·yNorms[j] + tiny of its exact value. The 1 % in c's 1.01 also covers the float64 rounding of the bounds below. */
interface Band {
  yNorms: Float64Array;
  c: number;
  tiny: number;
}

function bandedRow(m: FactoredMatrix, i: number, f: Float32Array, band: Band): ExactRow {
  const exact = new Map<number, number>();
  const at = (j: number) => {
    let v = exact.get(j);
    if (v === undefined) exact.set(j, (v = m.at(i, j)));
    return v;
  };
  /** topK over the exact values (sign·value·weight) of the candidates, listed by ascending index. */
  const exactTop = (cand: number[], n: number, sign: number, w?: ArrayLike<number>) =>
    topK(
      cand.map((j) => (w ? at(j) * w[j] : sign * at(j))),
      n,
    ).map((c) => cand[c]);
  const top = (n: number, sign: number, w?: ArrayLike<number>) =>
    n <= 0 ? [] : exactTop(w ? bandCandidatesWeighted(f, band, n, w) : bandCandidates(f, band, n, sign), n, sign, w);
  return {
    at,
    max: () => at(top(1, 1)[0]),
    top: (n, w) => top(n, 1, w),
    bottom: (n) => top(n, -1),
    countAbove: (t) => {
      const { yNorms, c, tiny } = band;
      let count = 0;
      for (let j = 0; j < f.length; j++) {
        const b = c * yNorms[j] + tiny;
        if (f[j] - b > t) count++;
        else if (f[j] + b > t && at(j) > t) count++;
      }
      return count;
    },
  };
}

/*
 * Entry j can be among the n largest only if its upper bound reaches the n-th largest lower bound.
 * One pass: the n best lower bounds so far give a floor that only rises, entries whose upper bound
 * reaches the current floor are kept, and the few kept are filtered by the final floor.
 * Monomorphic on purpose (weighted or not): a shared version is several times slower.
 */

/** Indices (ascending) whose sign·value can be among the n largest. */
function bandCandidates(f: Float32Array, band: Band, n: number, sign: number): number[] {
  const { yNorms, c, tiny } = band,
    best: number[] = [],
    kept: number[] = [];
  let floor = -Infinity;
  for (let j = 0; j < f.length; j++) {
    const b = c * yNorms[j] + tiny,
      v = sign * f[j];
    if (v + b < floor) continue;
    kept.push(j);
    if (v - b > floor) floor = nthOrNone(best, v - b, n);
  }
  return kept.filter((j) => sign * f[j] + (c * yNorms[j] + tiny) >= floor);
}

/** Indices (ascending) whose value·w_j (w_j ≥ 0) can be among the n largest. */
function bandCandidatesWeighted(f: Float32Array, band: Band, n: number, w: ArrayLike<number>): number[] {
  const { yNorms, c, tiny } = band,
    best: number[] = [],
    kept: number[] = [];
  let floor = -Infinity;
  for (let j = 0; j < f.length; j++) {
    const b = c * yNorms[j] + tiny,
      hi = (f[j] + b) * w[j];
    if (hi < floor) continue;
    kept.push(j);
    const lo = (f[j] - b) * w[j];
    if (lo > floor) floor = nthOrNone(best, lo, n);
  }
  return kept.filter((j) => (f[j] + (c * yNorms[j] + tiny)) * w[j] >= floor);
}

/** keepLargest, then the floor: the n-th best, or −∞ while fewer are in. */
function nthOrNone(best: number[], v: number, n: number): number {
  keepLargest(best, v, n);
  return best.length === n ? best[0] : -Infinity;
}

/** Each listed key's QK column and OV row through the kernels: one GEMM per circuit for all of them. */
export async function keyRowsFor(c: HeadCircuits, keys: number[], k: ReductionKernels): Promise<KeyRows> {
  const [cols, rows] = await Promise.all([exactRows(c.qk.T, keys, k), exactRows(c.ov, keys, k)]);
  const at = new Map(keys.map((key, i) => [key, i]));
  return {
    qkCol: (key) => cols[at.get(key) ?? -1] ?? exactRowFromDense(c.qk.col(key)),
    ovRow: (key) => rows[at.get(key) ?? -1] ?? exactRowFromDense(c.ov.row(key)),
  };
}
