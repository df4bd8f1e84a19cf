/**
 * Cheap rigorous intervals on every row's max of a factored M = L·Rᵀ (max_j l_i·r_j), in
 * O((rows + cols)·rank² + rows·rank·points) instead of the O(rows·cols·rank) of any full pass:
 *
 * 1. Balanced SVD coordinates. With whitening C_L C_Lᵀ = LᵀL, C_R C_Rᵀ = RᵀR and the SVD
 *    C_Lᵀ C_R = U S Wᵀ, the maps A = C_L⁻ᵀ U S^½ and B = C_R⁻ᵀ W S^½ satisfy A·Bᵀ = I, so
 *    l·r = (l A)·(r B), and in these coordinates each side carries the singular values equally:
 *    norms measure what a row can contribute to M, not the arbitrary scale of its factor.
 *    Nothing here trusts the decomposition: the error of the float32 maps actually used,
 *    κ = ‖A Bᵀ − I‖_F + (2γ + γ²)‖A‖_F‖B‖_F, is measured, and |l'·r' − l·r| ≤ κ‖l‖‖r‖.
 * 2. Norm split: the `points` columns with the longest r'_j are evaluated exactly (float32, with
 *    its rounding bound γ = n·2⁻²⁴/(1 − n·2⁻²⁴) for rank n); every other column is bounded by
 *    Cauchy–Schwarz, l'·r'_j ≤ ‖l'‖·ρ with ρ the longest norm left. Trained weights have few long
 *    rows (log-normal norms, outlier tokens) and decaying spectra, so this is tight there; on
 *    isotropic random weights it is ≈ 2.5× loose and prunes nothing (bench/prunedHead.ts).
 *
 * The intervals hold both the exact max and the float32 max a dense pass computes (γ‖l‖·max‖r‖
 * is added for the latter), so a strategy that prunes on them reproduces the dense report.
 */
import type { FactoredMatrix } from "./factored";
import type { ReductionKernels, RowMaxBounds, StreamControl } from "./kernels";
import { symmetricEigen } from "./eig";
import { transpose2d } from "./tensor";

/** Relative error bound of a float32 dot product of n terms, any summation order, FMA or not. */
export function gammaF32(n: number): number {
  const u = 2 ** -24;
  return (n * u) / (1 - n * u);
}

export interface BalancedMaps {
  /** A and B (rank × rank, float32): l' = l·A and r' = r·B, computed by any float32 product. */
  a: Float32Array;
  b: Float32Array;
  /** |l'_i·r'_j − l_i·r_j| ≤ kappa·‖l_i‖·‖r_j‖ for l', r' computed in float32 with these maps. */
  kappa: number;
}

/** The maps to balanced SVD coordinates with their measured error, or undefined when a Gram matrix is singular. */
export async function balancedMaps(
  left: Float32Array,
  right: Float32Array,
  rows: number,
  cols: number,
  r: number,
  k: ReductionKernels,
): Promise<BalancedMaps | undefined> {
  const cl = cholesky(await gramOf(left, rows, r, k), r),
    cr = cholesky(await gramOf(right, cols, r, k), r);
  if (!cl || !cr) return undefined;
  const m = new Float64Array(r * r); // C_Lᵀ C_R
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let t = 0; t < r; t++) s += cl[t * r + i] * cr[t * r + j];
      m[i * r + j] = s;
    }
  const mtm = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let t = 0; t < r; t++) s += m[t * r + i] * m[t * r + j];
      mtm[i * r + j] = s;
    }
  const { values, vectors: w } = symmetricEigen(mtm, r);
  const sv = values.map((x) => Math.sqrt(Math.max(0, x)));
  const us = new Float64Array(r * r),
    ws = new Float64Array(r * r); // U S^½ = M W S^-½, W S^½
  for (let c = 0; c < r; c++) {
    if (!(sv[c] > sv[0] * 1e-12)) return undefined; // rank-deficient: keep the original coordinates
    const f = Math.sqrt(sv[c]);
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let t = 0; t < r; t++) s += m[i * r + t] * w[t * r + c];
      us[i * r + c] = s / f;
      ws[i * r + c] = w[i * r + c] * f;
    }
  }
  const a = Float32Array.from(solveUpper(cl, us, r)),
    b = Float32Array.from(solveUpper(cr, ws, r));
  let err = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < r * r; i++) {
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let t = 0; t < r; t++) s += a[i * r + t] * b[j * r + t];
      err += (s - (i === j ? 1 : 0)) ** 2;
    }
  na = Math.sqrt(na);
  nb = Math.sqrt(nb);
  const g = gammaF32(r);
  // The float64 check itself is off by at most r·2⁻⁵² relative per entry: fold it in generously.
  const kappa = Math.sqrt(err) + r * 2 ** -50 * na * nb + (2 * g + g * g) * na * nb;
  if (!Number.isFinite(kappa) || kappa > 0.01) return undefined; // too ill-conditioned to help
  return { a, b, kappa };
}

/** What the norm-split bounds of one matrix reuse across calls: its balanced coordinates and norms. */
export interface NormSplitPlan {
  r: number;
  rows: number;
  cols: number;
  /** The balanced left factor l' (every row), and the right factor with its map (r' = r·B, made for chosen columns only). */
  left: Float32Array;
  right: Float32Array;
  rightMap?: Float32Array;
  kappa: number;
  /** Upper bounds on the norms of the original left rows and of the balanced left rows and columns. */
  ln: Float64Array;
  ln2: Float64Array;
  rn2: Float64Array;
  /** Upper bounds on the longest original and balanced column. */
  maxR: number;
  maxR2: number;
}

/**
 * The balanced coordinates of m and the norms its bounds multiply by. The balanced right factor is
 * never formed: only its norms (one fused product) and, per call, the few columns evaluated exactly.
 */
export async function normSplitPlan(m: FactoredMatrix, k: ReductionKernels): Promise<NormSplitPlan> {
  const { left, right, rows, cols, rank: r } = m;
  const maps = await balancedMaps(left, right, rows, cols, r, k);
  const [ln, maxR] = await Promise.all([m.leftNorms(k), m.rightMaxNorm(k)]);
  if (!maps) return { r, rows, cols, left, right, kappa: 0, ln, ln2: ln, rn2: await m.rightNorms(k), maxR, maxR2: maxR };
  const [l2, rn2] = await Promise.all([productNorms(left, maps.a, rows, r, k, true), productNorms(right, maps.b, cols, r, k, false)]);
  let maxR2 = 0;
  for (let j = 0; j < cols; j++) if (rn2.norms[j] > maxR2) maxR2 = rn2.norms[j];
  return { r, rows, cols, left: l2.product!, right, rightMap: maps.b, kappa: maps.kappa, ln, ln2: l2.norms, rn2: rn2.norms, maxR, maxR2 };
}

/** F·M [n, r] (when asked) and upper bounds on its rows' norms, fused where the kernels can. */
async function productNorms(
  f: Float32Array,
  map: Float32Array,
  n: number,
  r: number,
  k: ReductionKernels,
  keepProduct: boolean,
): Promise<{ product?: Float32Array; norms: Float64Array }> {
  if (k.matmulNormsSq) {
    const { product, normsSq } = await k.matmulNormsSq(f, map, n, r, r, keepProduct);
    // A float32 sum of squares overflows past norms of ≈ 1.8·10¹⁹: such rows are bounded in float64,
    // from the product row when there is one, else from ‖f_i·M‖ plus any float32 product's error.
    const mNorm = normUpper64(map, 0, r * r),
      g = gammaF32(r);
    const overflow = product
      ? (i: number) => normUpper64(product, i * r, r)
      : (i: number) => (normUpper64(rowTimes(f, i, map, r), 0, r) + g * normUpper64(f, i * r, r) * mNorm) * (1 + 2 ** -50);
    return { product, norms: normsFromSquares(normsSq, r, overflow) };
  }
  const product = await k.matmul(f, map, n, r, r);
  return { product: keepProduct ? product : undefined, norms: rowNormsUpper64(product, n, r) };
}

/**
 * Intervals on max_j l_i·r_j for every row, or for the listed rows (bounds[i] for rows[i]); the
 * `points` longest columns (in balanced coordinates) are evaluated exactly (see the file comment).
 */
export async function normSplitRowMaxBounds(
  plan: NormSplitPlan,
  points: number,
  k: ReductionKernels,
  ctl: StreamControl,
  ids?: ArrayLike<number>,
): Promise<RowMaxBounds> {
  const { r, cols, ln, ln2, rn2, maxR } = plan;
  const g = gammaF32(r),
    kappa = plan.kappa + g; // + the dense pass's own float32 error
  const h = Math.min(points, cols),
    n = ids ? ids.length : plan.rows;
  const { cut, next: rho } = largestTwo(rn2, h);
  const top: number[] = []; // the h longest columns (any order among equals)
  for (let j = 0; j < cols && top.length < h; j++) if (rn2[j] > cut) top.push(j);
  for (let j = 0; j < cols && top.length < h; j++) if (rn2[j] === cut) top.push(j);
  let chosen: Float32Array = new Float32Array(top.length * r); // the chosen columns' factor rows [points, r], balanced
  top.forEach((j, c) => chosen.set(plan.right.subarray(j * r, (j + 1) * r), c * r));
  let maxR2 = plan.maxR2;
  if (plan.rightMap && top.length) {
    chosen = await k.matmul(chosen, plan.rightMap, top.length, r, r);
    // This product rounds on its own: its columns' norms, not the full product's, bound the exact part's error.
    for (const x of rowNormsUpper64(chosen, top.length, r)) maxR2 = Math.max(maxR2, x);
  }
  let x = plan.left;
  if (ids) {
    x = new Float32Array(n * r);
    for (let i = 0; i < n; i++) x.set(plan.left.subarray(ids[i] * r, (ids[i] + 1) * r), i * r);
  }
  const m = k.rowMaxOfRows
    ? await k.rowMaxOfRows(x, n, chosen, top.length, r, ctl)
    : await k.rowMax(x, transpose2d(chosen, top.length, r), n, r, top.length, ctl);
  const lo = new Float64Array(n),
    hi = new Float64Array(n);
  const w = 1 + 2 ** -40; // covers the float64 rounding of the norms and of these few operations
  for (let i = 0; i < n; i++) {
    const id = ids ? ids[i] : i;
    // e: float32 rounding of the exact part; t: the coordinates' error and the dense pass's own
    // rounding; r·2⁻¹²⁶ each for products a kernel may flush to zero below float32's normal range.
    const e = g * ln2[id] * maxR2 * w + 2 * r * 2 ** -126,
      t = kappa * ln[id] * maxR * w + 2 * r * 2 ** -126;
    const tail = top.length < cols ? ln2[id] * rho * w : -Infinity; // Cauchy–Schwarz for the rest
    hi[i] = up(Math.max(m[i] + e, tail) + t);
    lo[i] = down(m[i] - e - t);
  }
  return { lo, hi };
}

/**
 * The h-th largest of a (the cut: the h longest columns are ≥ it) and the largest below those h
 * (ρ, bounding every other column); +∞ / 0 at the ends. Quickselect on a copy: O(n).
 */
export function largestTwo(a: Float64Array, h: number): { cut: number; next: number } {
  const n = a.length;
  if (h <= 0) return { cut: Infinity, next: maxOfAll(a) };
  if (h >= n) return { cut: minOfAll(a), next: 0 };
  const b = Float64Array.from(a),
    k = n - h; // the cut is the k-th smallest (0-based)
  let lo = 0,
    hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1,
      pivot = median3(b[lo], b[mid], b[hi]);
    let i = lo,
      j = hi;
    while (i <= j) {
      while (b[i] < pivot) i++;
      while (b[j] > pivot) j--;
      if (i <= j) {
        const t = b[i];
        b[i++] = b[j];
        b[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  let next = -Infinity; // everything left of position k is ≤ the cut
  for (let i = 0; i < k; i++) if (b[i] > next) next = b[i];
  return { cut: b[k], next: Math.max(0, next) };
}

const median3 = (a: number, b: number, c: number) => Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
const maxOfAll = (a: Float64Array) => a.reduce((m, x) => (x > m ? x : m), 0);
const minOfAll = (a: Float64Array) => a.reduce((m, x) => (x < m ? x : m), Infinity);

const up = (x: number) => x + Math.abs(x) * 2 ** -40 + Number.MIN_VALUE;
const down = (x: number) => x - Math.abs(x) * 2 ** -40 - Number.MIN_VALUE;

/**
 * Upper bounds on the norms behind squared norms summed in float32 (any order, FMA or not): the
 * sum of r rounded squares is within γ_{r+1} of the exact one, and r·2⁻¹²⁶ covers squares a kernel
 * flushed to zero. A sum that overflowed float32 takes `overflow(i)`, a float64 bound on row i.
 */
export function normsFromSquares(sq: Float32Array, r: number, overflow: (i: number) => number): Float64Array {
  const g = gammaF32(r + 1),
    tiny = r * 2 ** -126,
    w = (1 + 2 ** -50) / (1 - g);
  const out = new Float64Array(sq.length);
  for (let i = 0; i < sq.length; i++) out[i] = Number.isFinite(sq[i]) ? Math.sqrt((sq[i] + tiny) * w) : overflow(i);
  return out;
}

/**
 * An upper bound on ‖a[off … off + n)‖: the float64 sum of squares (finite for any finite float32
 * values) and its square root, widened by their rounding, (n + 2)·2⁻⁵² relative.
 */
export function normUpper64(a: ArrayLike<number>, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[off + i] * a[off + i];
  return Math.sqrt(s) * (1 + (n + 2) * 2 ** -52);
}

/** normUpper64 of every row of a [n, r] matrix. */
export function rowNormsUpper64(a: Float32Array, n: number, r: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => normUpper64(a, i * r, r));
}

/** Row i of F [·, r] times M [r, r], in float64. */
function rowTimes(f: Float32Array, i: number, m: Float32Array, r: number): Float64Array {
  const out = new Float64Array(r);
  for (let t = 0; t < r; t++) for (let e = 0; e < r; e++) out[e] += f[i * r + t] * m[t * r + e];
  return out;
}

async function gramOf(a: Float32Array, n: number, r: number, k: ReductionKernels): Promise<Float64Array> {
  if (k.gram) return Float64Array.from(await k.gram(a, n, r));
  const g = new Float64Array(r * r);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < r; p++) {
      const x = a[i * r + p];
      for (let q = 0; q < r; q++) g[p * r + q] += x * a[i * r + q];
    }
  return g;
}

/** Lower-triangular C with C Cᵀ = G + a tiny ridge, or undefined when G is not positive definite. */
function cholesky(g: Float64Array, r: number): Float64Array | undefined {
  let tr = 0;
  for (let i = 0; i < r; i++) tr += g[i * r + i];
  const ridge = (1e-9 * tr) / r,
    c = new Float64Array(r * r);
  for (let j = 0; j < r; j++) {
    let d = g[j * r + j] + ridge;
    for (let t = 0; t < j; t++) d -= c[j * r + t] ** 2;
    if (!(d > 0)) return undefined;
    const cjj = Math.sqrt(d);
    c[j * r + j] = cjj;
    for (let i = j + 1; i < r; i++) {
      let s = g[i * r + j];
      for (let t = 0; t < j; t++) s -= c[i * r + t] * c[j * r + t];
      c[i * r + j] = s / cjj;
    }
  }
  return c;
}

/** X with Cᵀ X = Y for lower-triangular C (so Cᵀ is upper): back substitution, column by column. */
function solveUpper(c: Float64Array, y: Float64Array, r: number): Float64Array {
  const x = new Float64Array(r * r);
  for (let col = 0; col < r; col++) {
    for (let i = r - 1; i >= 0; i--) {
      let s = y[i * r + col];
      for (let t = i + 1; t < r; t++) s -= c[t * r + i] * x[t * r + col];
      x[i * r + col] = s / c[i * r + i];
    }
  }
  return x;
}
