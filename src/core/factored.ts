/**
 * A matrix M = L·Rᵀ kept in factored form, as TransformerLens's FactoredMatrix: `left` is
 * [rows, rank] and `right` is [cols, rank], both row-major, so M[i, j] = left_i · right_j and the
 * rows × cols product is never formed. Every circuit Head Lens shows — direct QK/OV, composition
 * paths, the products behind metrics — is one of these, and carries its own operations:
 * products with dense matrices and with other factored matrices, the two normalizations the
 * reports use, rows and columns in float64, streamed row/column maxima (run by the worker's
 * kernels), eigenvalues through the small rank × rank product, and the Frobenius norm.
 */
import { complexEigenvalues, Complex } from "./eig";
import { NormSplitPlan, normSplitPlan, normSplitRowMaxBounds, normsFromSquares, normUpper64, rowNormsUpper64 } from "./normSplitBounds";
import { DiagonalRanks, diagonalRanks } from "./diagonalRanks";
import { jsMatMul, MatMulFn, Products, productsOf, ReductionKernels, RowMaxBounds, RowMaxEvaluator, StreamControl } from "./kernels";
import { transpose2d } from "./tensor";

export type { MatMulFn, Products, ReductionKernels, RowMaxBounds, RowMaxEvaluator, StreamControl } from "./kernels";
export { jsMatMul, productsOf } from "./kernels";

/** How to get a factor's Gram matrix (FᵀF, rank × rank) without recomputing it from the factor. */
export interface GramSources {
  left?: () => Float64Array;
  right?: () => Float64Array;
}

export class FactoredMatrix {
  private leftGramCache?: Float64Array;
  private rightGramCache?: Float64Array;
  /** A report asks for the same few rows and columns more than once (selection, panel details). */
  private readonly recentRows = new Map<number, Float64Array>();
  private transposed?: FactoredMatrix;
  private normSplit?: Promise<NormSplitPlan>;
  private leftNormsCache?: Promise<Float64Array>;

  constructor(
    readonly left: Float32Array,
    readonly right: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly rank: number,
    private readonly grams: GramSources = {},
  ) {
    if (left.length !== rows * rank) throw new Error(`left factor has ${left.length} values, expected ${rows}×${rank}`);
    if (right.length !== cols * rank) throw new Error(`right factor has ${right.length} values, expected ${cols}×${rank}`);
  }

  /** LᵀL (rank × rank, float64), computed once; a product's comes from its parents' in O(rank³). */
  leftGram(): Float64Array {
    return (this.leftGramCache ??= this.grams.left?.() ?? gram(this.left, this.left, this.rows, this.rank, this.rank));
  }

  /** RᵀR (rank × rank, float64), computed once. */
  rightGram(): Float64Array {
    return (this.rightGramCache ??= this.grams.right?.() ?? gram(this.right, this.right, this.cols, this.rank, this.rank));
  }

  /** M = A·Bᵀ from A [rows, rank] and B [cols, rank]. */
  static fromFactors(a: Float32Array, b: Float32Array, rows: number, cols: number, rank: number): FactoredMatrix {
    return new FactoredMatrix(a, b, rows, cols, rank);
  }

  /** M = A·B from A [rows, rank] and B [rank, cols] (TransformerLens's FactoredMatrix(A, B)). */
  static fromProduct(a: Float32Array, b: Float32Array, rows: number, rank: number, cols: number): FactoredMatrix {
    return new FactoredMatrix(a, transpose2d(b, rank, cols), rows, cols, rank);
  }

  /** The transpose (memoized, so its cached rows and norms are kept). */
  get T(): FactoredMatrix {
    if (!this.transposed) {
      this.transposed = new FactoredMatrix(this.right, this.left, this.cols, this.rows, this.rank, {
        left: () => this.rightGram(),
        right: () => this.leftGram(),
      });
      this.transposed.transposed = this;
    }
    return this.transposed;
  }

  /**
   * Upper bounds on ‖left_i‖ for every row (float64), computed once — by the kernels when they can
   * (a float32 sum, widened by its rounding bound: at most a relative (rank + 1)·2⁻²⁴ above, plus
   * ≈ 10⁻¹⁸ for rows near zero), else here in float64. Every rigorous bound that multiplies by a
   * norm takes it from here.
   */
  leftNorms(k?: Pick<ReductionKernels, "rowNormsSq">): Promise<Float64Array> {
    return (this.leftNormsCache ??= (async () => {
      const r = this.rank;
      if (k?.rowNormsSq) return normsFromSquares(await k.rowNormsSq(this.left, this.rows, r), r, (i) => normUpper64(this.left, i * r, r));
      return rowNormsUpper64(this.left, this.rows, r);
    })());
  }

  /** Upper bounds on ‖right_j‖ for every column (the transpose's left norms, shared with it). */
  rightNorms(k?: Pick<ReductionKernels, "rowNormsSq">): Promise<Float64Array> {
    return this.T.leftNorms(k);
  }

  /** An upper bound on max_j ‖right_j‖. */
  async rightMaxNorm(k?: Pick<ReductionKernels, "rowNormsSq">): Promise<number> {
    let m = 0;
    for (const x of await this.rightNorms(k)) if (x > m) m = x;
    return m;
  }

  /** A·M for A [n, rows]: only the left factor changes. */
  async premultiply(a: Float32Array, n: number, mm: MatMulFn | Products = jsMatMul): Promise<FactoredMatrix> {
    return new FactoredMatrix(await productsOf(mm).matmul(a, this.left, n, this.rows, this.rank), this.right, n, this.cols, this.rank, {
      right: () => this.rightGram(),
    });
  }

  /** M·B for B [cols, n]: the right factor becomes (rightᵀ·B)ᵀ. */
  async postmultiply(b: Float32Array, n: number, mm: MatMulFn | Products = jsMatMul): Promise<FactoredMatrix> {
    const rt = await productsOf(mm).matmul(transpose2d(this.right, this.cols, this.rank), b, this.rank, this.cols, n);
    return new FactoredMatrix(this.left, transpose2d(rt, this.rank, n), this.rows, n, this.rank, { left: () => this.leftGram() });
  }

  /**
   * postmultiply(b) followed by rowCentered(), in one pass over the new right factor: the same
   * numbers (each mean sums j = 0, 1, … in float64), one V × rank copy and transpose fewer.
   */
  async postmultiplyRowCentered(
    b: Float32Array,
    n: number,
    mm: MatMulFn | Products = jsMatMul,
  ): Promise<{ matrix: FactoredMatrix; removedMean: Float64Array }> {
    const p = productsOf(mm),
      r = this.rank;
    if (p.matmulTA) {
      // bᵀ·right is the new right factor as it is ([n, rank]): row-major sweeps, no transpose.
      const right = await p.matmulTA(b, this.right, this.cols, n, r);
      return { matrix: new FactoredMatrix(this.left, right, this.rows, n, r), removedMean: subtractColumnMeans(right, n, r) };
    }
    const rt = await p.matmul(transpose2d(this.right, this.cols, r), b, r, this.cols, n); // [rank, n]
    const mean = new Float64Array(r),
      right = new Float32Array(n * r);
    for (let e = 0; e < r; e++) {
      let s = 0;
      for (let j = e * n, end = j + n; j < end; j++) s += rt[j];
      mean[e] = s / n;
    }
    for (let j0 = 0; j0 < n; j0 += 64) {
      // transpose in tiles, subtracting the means
      const j1 = Math.min(n, j0 + 64);
      for (let e = 0; e < r; e++) for (let j = j0; j < j1; j++) right[j * r + e] = rt[e * n + j] - mean[e];
    }
    return { matrix: new FactoredMatrix(this.left, right, this.rows, n, r), removedMean: mean };
  }

  /** M·Btᵀ for Bt [n, cols] (e.g. keys embedded by W_E: M·W_Eᵀ): the right factor becomes Bt·right. */
  async postmultiplyTransposed(bt: Float32Array, n: number, mm: MatMulFn | Products = jsMatMul): Promise<FactoredMatrix> {
    return new FactoredMatrix(this.left, await productsOf(mm).matmul(bt, this.right, n, this.cols, this.rank), this.rows, n, this.rank, {
      left: () => this.leftGram(),
    });
  }

  /**
   * postmultiplyTransposed(bt) followed by minusColumn(c) — the notebook's BOS normalization of QK —
   * in one fused product where the kernels have it; `removed` is column c's right-factor row.
   */
  async postmultiplyTransposedMinusColumn(
    bt: Float32Array,
    n: number,
    c: number,
    mm: MatMulFn | Products = jsMatMul,
  ): Promise<{ matrix: FactoredMatrix; removed: Float32Array }> {
    const p = productsOf(mm),
      r = this.rank;
    if (p.matmulMinusRow) {
      const { diff, row } = await p.matmulMinusRow(bt, this.right, n, this.cols, r, c);
      return { matrix: new FactoredMatrix(this.left, diff, this.rows, n, r), removed: row };
    }
    const full = await this.postmultiplyTransposed(bt, n, p);
    const removed = full.right.slice(c * r, (c + 1) * r);
    return { matrix: full.minusColumn(c, true), removed };
  }

  /**
   * this·other, never forming either product: L1 (R1ᵀ L2) R2ᵀ. The small rank × rank middle is
   * folded into the side that keeps the lower rank, as TransformerLens does.
   */
  async compose(other: FactoredMatrix, products: MatMulFn | Products = jsMatMul): Promise<FactoredMatrix> {
    if (this.cols !== other.rows) throw new Error(`cannot compose ${this.rows}×${this.cols} with ${other.rows}×${other.cols}`);
    const r1 = this.rank,
      r2 = other.rank,
      mm = productsOf(products).matmul;
    const middle = await mm(transpose2d(this.right, this.cols, r1), other.left, r1, this.cols, r2); // [r1, r2]
    if (r1 <= r2) {
      // right' = R2 · middleᵀ  [cols2, r1]; its Gram is middle · (R2ᵀR2) · middleᵀ.
      const right = await mm(other.right, transpose2d(middle, r1, r2), other.cols, r2, r1);
      return new FactoredMatrix(this.left, right, this.rows, other.cols, r1, {
        left: () => this.leftGram(),
        right: () => sandwich(middle, other.rightGram(), r1, r2),
      });
    }
    // left' = L1 · middle  [rows, r2]; its Gram is middleᵀ · (L1ᵀL1) · middle.
    const left = await mm(this.left, middle, this.rows, r1, r2);
    return new FactoredMatrix(left, other.right, this.rows, other.cols, r2, {
      left: () => sandwich(transpose2d(middle, r1, r2), this.leftGram(), r2, r1),
      right: () => other.rightGram(),
    });
  }

  /**
   * M[i, j] − M[i, c] for every row (the notebook's per-query BOS normalization when c = BOS).
   * `reuse` writes into this matrix's right factor instead of a copy: only for a product just made
   * that nothing else holds (it is not valid afterwards).
   */
  minusColumn(c: number, reuse = false): FactoredMatrix {
    const r = this.rank,
      right = reuse ? this.right : new Float32Array(this.right);
    const base = this.right.slice(c * r, (c + 1) * r);
    for (let j = 0; j < this.cols; j++) for (let e = 0; e < r; e++) right[j * r + e] -= base[e];
    return new FactoredMatrix(this.left, right, this.rows, this.cols, r);
  }

  /** Every row minus its mean (the notebook's OV normalization), through the right factor. */
  rowCentered(): { matrix: FactoredMatrix; removedMean: Float64Array } {
    const right = new Float32Array(this.right);
    const mean = subtractColumnMeans(right, this.cols, this.rank);
    return { matrix: new FactoredMatrix(this.left, right, this.rows, this.cols, this.rank), removedMean: mean };
  }

  /** Row i (length cols), in float64 accumulation: O(cols·rank). Read-only: recent rows are shared. */
  row(i: number): Float64Array {
    return cached(this.recentRows, i, () => {
      const out = new Float64Array(this.cols);
      const r = this.rank;
      for (let j = 0; j < this.cols; j++) out[j] = dot(this.left, i * r, this.right, j * r, r);
      return out;
    });
  }

  /** Column j (length rows). Read-only, like rows. */
  col(j: number): Float64Array {
    return this.T.row(j);
  }

  /** Row i of the left factor times a vector of the rank space (L_i · v), in float64: what a column
   * or a mean folded into the right factor (minusColumn, rowCentered) contributed to row i. */
  leftDot(i: number, v: ArrayLike<number>): number {
    let s = 0;
    for (let k = 0, o = i * this.rank; k < this.rank; k++) s += this.left[o + k] * v[k];
    return s;
  }

  /** M[i, j] in float64. */
  at(i: number, j: number): number {
    return dot(this.left, i * this.rank, this.right, j * this.rank, this.rank);
  }

  /** max_j M[i, j] for every row, streamed by the kernels (never more than one block of M). */
  rowMax(k: ReductionKernels, ctl: StreamControl): Promise<Float32Array> {
    return k.rowMax(this.left, transpose2d(this.right, this.cols, this.rank), this.rows, this.rank, this.cols, ctl);
  }

  /** max_i M[i, j] for every column. */
  colMax(k: ReductionKernels, ctl: StreamControl): Promise<Float32Array> {
    return this.T.rowMax(k, ctl);
  }

  /** Rigorous intervals on the max of every row, or of the listed rows only (a full-width int8 pass). */
  rowMaxBounds(k: ReductionKernels, ctl: StreamControl, rows?: ArrayLike<number>): Promise<RowMaxBounds> {
    if (!k.rowMaxBounds) throw new Error("these kernels have no row-max bounds");
    return k.rowMaxBounds(rows ? this.gatherRows(rows) : this.left, rows ? rows.length : this.rows, this.right, this.cols, this.rank, ctl);
  }

  /**
   * Cheap rigorous intervals on every row's max (or the listed rows'): balanced SVD coordinates, the
   * `points` longest columns exactly, Cauchy–Schwarz for the rest (normSplitBounds.ts).
   * O(rows·rank·points) after an O(V·rank²) set-up done once per matrix; no V² pass.
   */
  async rowMaxNormSplitBounds(k: ReductionKernels, ctl: StreamControl, points: number, rows?: ArrayLike<number>): Promise<RowMaxBounds> {
    this.normSplit ??= normSplitPlan(this, k); // balanced factors, once
    return normSplitRowMaxBounds(await this.normSplit, points, k, ctl, rows);
  }

  /** The left factor's listed rows, packed [rows.length, rank]. */
  gatherRows(rows: ArrayLike<number>): Float32Array {
    const r = this.rank,
      x = new Float32Array(rows.length * r);
    for (let i = 0; i < rows.length; i++) x.set(this.left.subarray(rows[i] * r, (rows[i] + 1) * r), i * r);
    return x;
  }

  /**
   * Exact row maxima for chosen rows, many times over: against the right factor as it is when the
   * kernels can (no per-matrix session to build: best for a few batches), else — or for thousands
   * of rows (`prepack`) — through a session that packs it once.
   */
  async rowMaxEvaluator(k: ReductionKernels, opts: { prepack?: boolean; blockBytes?: number } = {}): Promise<RowMaxEvaluator> {
    const blockBytes = opts.blockBytes ?? 12 << 20;
    if (k.rowMaxOfRows && !(opts.prepack && k.rowMaxSession)) {
      const ctl = { check: () => {}, blockBytes };
      return {
        run: (ids) => k.rowMaxOfRows!(this.gatherRows(ids), ids.length, this.right, this.cols, this.rank, ctl),
        release: async () => {},
      };
    }
    if (!k.rowMaxSession) throw new Error("these kernels have no row-max sessions");
    const r = this.rank;
    const session = await k.rowMaxSession(transpose2d(this.right, this.cols, r), r, this.cols);
    return {
      run: (ids) => session.run(this.gatherRows(ids), ids.length),
      release: () => session.release(),
    };
  }

  /** Brackets on every row's diagonal rank, made exact on demand, and every column's max (`diagonalRanks.ts`). */
  diagonalRanks(k: ReductionKernels, ctl: StreamControl): Promise<DiagonalRanks> {
    return diagonalRanks(this, k, ctl);
  }

  /** Nonzero eigenvalues of a square M = L·Rᵀ are those of the rank × rank product Rᵀ·L. */
  eigenvalues(): Complex[] {
    if (this.rows !== this.cols) throw new Error(`eigenvalues of a non-square ${this.rows}×${this.cols} matrix`);
    return complexEigenvalues(gram(this.right, this.left, this.rows, this.rank, this.rank), this.rank);
  }

  /** ‖M‖_F² = Σ (LᵀL) ∘ (RᵀR): two rank × rank Gram matrices, float64 (reused across products). */
  frobeniusNormSquared(): number {
    const gl = this.leftGram(),
      gr = this.rightGram();
    let s = 0;
    for (let i = 0; i < gl.length; i++) s += gl[i] * gr[i];
    return Math.max(0, s);
  }

  frobeniusNorm(): number {
    return Math.sqrt(this.frobeniusNormSquared());
  }
}

const RECENT = 8;

/**
 * Subtracts each column's mean from a [n, r] row-major matrix in place, returning the means. Row-
 * major sweeps (3× faster than column by column); each mean sums rows 0, 1, … in order, in float64.
 */
function subtractColumnMeans(a: Float32Array, n: number, r: number): Float64Array {
  const mean = new Float64Array(r);
  let j = 0,
    o = 0;
  // Two rows per sweep, still added one after the other: (mean + row j) + row j+1 (≈ 1.5× faster).
  for (; j + 1 < n; j += 2, o += 2 * r) for (let e = 0; e < r; e++) mean[e] = mean[e] + a[o + e] + a[o + r + e];
  for (; j < n; j++, o += r) for (let e = 0; e < r; e++) mean[e] += a[o + e];
  for (let e = 0; e < r; e++) mean[e] /= n;
  for (let j = 0, o = 0; j < n; j++, o += r) for (let e = 0; e < r; e++) a[o + e] -= mean[e];
  return mean;
}

function cached(recent: Map<number, Float64Array>, i: number, compute: () => Float64Array): Float64Array {
  let v = recent.get(i);
  if (!v) {
    recent.set(i, (v = compute()));
    if (recent.size > RECENT) recent.delete(recent.keys().next().value as number);
  }
  return v;
}

/** M·G·Mᵀ for M [p, q] (float32 or float64) and a symmetric G [q, q] -> [p, p], float64. */
function sandwich(m: ArrayLike<number>, g: Float64Array, p: number, q: number): Float64Array {
  const mg = new Float64Array(p * q);
  for (let i = 0; i < p; i++)
    for (let k = 0; k < q; k++) {
      const v = m[i * q + k];
      if (v === 0) continue;
      for (let j = 0; j < q; j++) mg[i * q + j] += v * g[k * q + j];
    }
  const out = new Float64Array(p * p);
  for (let i = 0; i < p; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < q; k++) s += mg[i * q + k] * m[j * q + k];
      out[i * p + j] = s;
    }
  return out;
}

/** Aᵀ·B in float64 for A [n, p] and B [n, q] (row-major) -> [p, q]. */
function gram(a: Float32Array, b: Float32Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < p; i++) {
      const av = a[k * p + i];
      if (av === 0) continue;
      const row = i * q,
        bo = k * q;
      for (let j = 0; j < q; j++) out[row + j] += av * b[bo + j];
    }
  }
  return out;
}

export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[ao + k] * b[bo + k];
  return s;
}
