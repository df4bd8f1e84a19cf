/**
 * A composition path's induction signature: for every row of a square factored M, the rank of its
 * diagonal, rank_i = #{j : M[i, j] > M[i, i]} — reported as the median rank and the shares at rank 0
 * and below 10 — with every column's max from the same pass.
 *
 * One float32 pass counts each row against the float64 diagonal ± a rigorous float32 error bound,
 * which brackets every rank: above_i ≤ rank_i ≤ atLeast_i − 1. Where the diagonal sits in the bulk
 * of its row (isotropic random weights) nearly every bracket is a few ranks wide, and making all
 * of them exact would cost a second V² pass plus V² JavaScript comparisons (≈ 7× a direct head at
 * V = 48k). The statistics need far fewer: only rows whose bracket straddles 0, 10 or the window
 * where the median can lie are made exact (`exactRows`: a float32 pass over those rows, float64 for
 * the entries inside its rounding band), so the statistics are exact and the pass costs what a
 * head does.
 */
import type { FactoredMatrix, ReductionKernels, StreamControl } from "./factored";
import { exactRows } from "./exactRows";
import type { DiagonalStats } from "./report";

export interface DiagonalRanks {
  /** lower[i] ≤ rank_i ≤ upper[i]; equal once row i is exact. */
  lower: Int32Array;
  upper: Int32Array;
  /** max_i M[i, j] per column, from the float32 pass. */
  colMax: Float32Array;
  /** Makes the listed rows' ranks exact. */
  resolve(rows: number[]): Promise<void>;
}

export async function diagonalRanks(m: FactoredMatrix, k: ReductionKernels, ctl: StreamControl): Promise<DiagonalRanks> {
  if (m.rows !== m.cols) throw new Error(`diagonal ranks of a non-square ${m.rows}×${m.cols} matrix`);
  if (!k.rowCountsAndColMax) throw new Error("these kernels cannot count against a threshold");
  const r = m.rank,
    n = m.rows,
    [maxNorm, rowNorms] = await Promise.all([m.rightMaxNorm(k), m.leftNorms(k)]);
  const lo = new Float32Array(n),
    hi = new Float32Array(n),
    diag = new Float64Array(n);
  // |fl32(x·y) − x·y| ≤ r·2⁻²³·‖x‖‖y‖ (a bound for any summation order, FMA or not), widened to float32.
  const slack = 2 * r * 2 ** -23;
  for (let i = 0; i < n; i++) {
    const d = (diag[i] = m.at(i, i)),
      eps = slack * rowNorms[i] * maxNorm + 1e-30;
    lo[i] = Math.fround(d - eps) - Math.abs(Math.fround(d - eps)) * 2 ** -23;
    hi[i] = Math.fround(d + eps) + Math.abs(Math.fround(d + eps)) * 2 ** -23;
  }
  const { above, atLeast, colMax } = await k.rowCountsAndColMax(m.left, n, m.right, n, r, lo, hi, ctl);
  // atLeast counts the diagonal itself.
  const lower = above,
    upper = Int32Array.from(atLeast, (x) => x - 1);
  const resolve = async (rows: number[]) => {
    const block = Math.max(1, Math.floor(ctl.blockBytes / (4 * n)));
    for (let s = 0; s < rows.length; s += block) {
      ctl.check();
      const ids = rows.slice(s, s + block),
        exact = await exactRows(m, ids, k);
      ids.forEach((i, b) => (lower[i] = upper[i] = exact[b].countAbove(diag[i])));
    }
  };
  return { lower, upper, colMax, resolve };
}

/** Median (lower) rank and the shares at rank 0 and below 10, exact, resolving only the rows they depend on. */
export async function diagonalStats(d: DiagonalRanks): Promise<DiagonalStats> {
  const { lower, upper } = d,
    n = lower.length,
    h = Math.floor((n - 1) / 2);
  const straddles = (i: number, t: number) => lower[i] < t && upper[i] >= t; // unsure whether rank_i < t
  for (;;) {
    const mLo = nth(lower, h),
      mHi = nth(upper, h);
    const rows: number[] = [];
    for (let i = 0; i < n; i++) {
      if (lower[i] === upper[i]) continue;
      if (straddles(i, 1) || straddles(i, 10) || (upper[i] >= mLo && lower[i] <= mHi)) rows.push(i);
    }
    if (!rows.length) break;
    await d.resolve(rows);
  }
  let top1 = 0,
    top10 = 0;
  for (let i = 0; i < n; i++) {
    if (upper[i] === 0) top1++;
    if (upper[i] < 10) top10++;
  }
  return { medianRank: nth(lower, h), top1: top1 / n, top10: top10 / n };
}

/** The k-th smallest (0-based). */
function nth(a: Int32Array, k: number): number {
  return Int32Array.from(a).sort()[k];
}
