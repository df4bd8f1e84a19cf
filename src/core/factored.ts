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
import { matmul, transpose2d } from "./tensor";

/** C[m,n] = A[m,k] · B[k,n]; the worker passes an onnxruntime kernel, tests a plain one. */
export type MatMulFn = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => Float32Array | Promise<Float32Array>;

export const jsMatMul: MatMulFn = matmul;

/** How a streamed reduction is driven: cancellation, progress (rows done), memory per block. */
export interface StreamControl {
  check(): void;
  progress?(rowsDone: number): void;
  blockBytes: number;
}

export interface RowMaxBounds {
  lo: Float64Array;
  hi: Float64Array;
}

/** Repeated row maxima against one fixed right-hand side (the pruned strategy's exact batches). */
export interface RowMaxEvaluator {
  /** max_j M[i, j] for each listed row i. */
  run(rows: number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The heavy V-sized reductions; the worker implements them on onnxruntime, tests in plain JS. */
export interface ReductionKernels {
  matmul: MatMulFn;
  /** out[i] = max_j (X·Y)[i, j] for X = rows × inner and Y = inner × cols, streamed in row blocks. */
  rowMax(x: Float32Array, y: Float32Array, rows: number, inner: number, cols: number, ctl: StreamControl): Promise<Float32Array>;
  /** Rigorous intervals on max_j x_i·y_j (x: rows × dim, y: cols × dim), e.g. from an int8 pass. */
  rowMaxBounds?(x: Float32Array, rows: number, y: Float32Array, cols: number, dim: number, ctl: StreamControl): Promise<RowMaxBounds>;
  /** A session with Y (inner × cols) fixed, for repeated blocks of rows. */
  rowMaxSession?(y: Float32Array, inner: number, cols: number): Promise<{ run(x: Float32Array, rows: number): Promise<Float32Array>; release(): Promise<void> }>;
}

export class FactoredMatrix {
  constructor(
    readonly left: Float32Array,
    readonly right: Float32Array,
    readonly rows: number,
    readonly cols: number,
    readonly rank: number,
  ) {
    if (left.length !== rows * rank) throw new Error(`left factor has ${left.length} values, expected ${rows}×${rank}`);
    if (right.length !== cols * rank) throw new Error(`right factor has ${right.length} values, expected ${cols}×${rank}`);
  }

  /** M = A·Bᵀ from A [rows, rank] and B [cols, rank]. */
  static fromFactors(a: Float32Array, b: Float32Array, rows: number, cols: number, rank: number): FactoredMatrix {
    return new FactoredMatrix(a, b, rows, cols, rank);
  }

  /** M = A·B from A [rows, rank] and B [rank, cols] (TransformerLens's FactoredMatrix(A, B)). */
  static fromProduct(a: Float32Array, b: Float32Array, rows: number, rank: number, cols: number): FactoredMatrix {
    return new FactoredMatrix(a, transpose2d(b, rank, cols), rows, cols, rank);
  }

  get T(): FactoredMatrix {
    return new FactoredMatrix(this.right, this.left, this.cols, this.rows, this.rank);
  }

  /** A·M for A [n, rows]: only the left factor changes. */
  async premultiply(a: Float32Array, n: number, mm: MatMulFn = jsMatMul): Promise<FactoredMatrix> {
    return new FactoredMatrix(await mm(a, this.left, n, this.rows, this.rank), this.right, n, this.cols, this.rank);
  }

  /** M·B for B [cols, n]: the right factor becomes (rightᵀ·B)ᵀ. */
  async postmultiply(b: Float32Array, n: number, mm: MatMulFn = jsMatMul): Promise<FactoredMatrix> {
    const rt = await mm(transpose2d(this.right, this.cols, this.rank), b, this.rank, this.cols, n);
    return new FactoredMatrix(this.left, transpose2d(rt, this.rank, n), this.rows, n, this.rank);
  }

  /** M·Btᵀ for Bt [n, cols] (e.g. keys embedded by W_E: M·W_Eᵀ): the right factor becomes Bt·right. */
  async postmultiplyTransposed(bt: Float32Array, n: number, mm: MatMulFn = jsMatMul): Promise<FactoredMatrix> {
    return new FactoredMatrix(this.left, await mm(bt, this.right, n, this.cols, this.rank), this.rows, n, this.rank);
  }

  /**
   * this·other, never forming either product: L1 (R1ᵀ L2) R2ᵀ. The small rank × rank middle is
   * folded into the side that keeps the lower rank, as TransformerLens does.
   */
  async compose(other: FactoredMatrix, mm: MatMulFn = jsMatMul): Promise<FactoredMatrix> {
    if (this.cols !== other.rows) throw new Error(`cannot compose ${this.rows}×${this.cols} with ${other.rows}×${other.cols}`);
    const middle = await mm(transpose2d(this.right, this.cols, this.rank), other.left, this.rank, this.cols, other.rank); // [r1, r2]
    if (this.rank <= other.rank) {
      // right' = R2 · middleᵀ  [cols2, r1]
      const right = await mm(other.right, transpose2d(middle, this.rank, other.rank), other.cols, other.rank, this.rank);
      return new FactoredMatrix(this.left, right, this.rows, other.cols, this.rank);
    }
    const left = await mm(this.left, middle, this.rows, this.rank, other.rank); // [rows, r2]
    return new FactoredMatrix(left, other.right, this.rows, other.cols, other.rank);
  }

  /** M[i, j] − M[i, c] for every row (the notebook's per-query BOS normalization when c = BOS). */
  minusColumn(c: number): FactoredMatrix {
    const r = this.rank, right = new Float32Array(this.right);
    const base = this.right.slice(c * r, (c + 1) * r);
    for (let j = 0; j < this.cols; j++) for (let e = 0; e < r; e++) right[j * r + e] -= base[e];
    return new FactoredMatrix(this.left, right, this.rows, this.cols, r);
  }

  /** Every row minus its mean (the notebook's OV normalization), through the right factor. */
  rowCentered(): { matrix: FactoredMatrix; removedMean: Float64Array } {
    const r = this.rank, right = new Float32Array(this.right);
    const mean = new Float64Array(r);
    for (let e = 0; e < r; e++) {
      let s = 0;
      for (let j = 0; j < this.cols; j++) s += right[j * r + e];
      mean[e] = s / this.cols;
      for (let j = 0; j < this.cols; j++) right[j * r + e] -= mean[e];
    }
    return { matrix: new FactoredMatrix(this.left, right, this.rows, this.cols, r), removedMean: mean };
  }

  /** Row i (length cols), in float64 accumulation: O(cols·rank). */
  row(i: number): Float64Array {
    const out = new Float64Array(this.cols);
    const r = this.rank;
    for (let j = 0; j < this.cols; j++) out[j] = dot(this.left, i * r, this.right, j * r, r);
    return out;
  }

  /** Column j (length rows). */
  col(j: number): Float64Array {
    return this.T.row(j);
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

  /** Rigorous intervals on every row's max (the pruned strategy's bounds). */
  rowMaxBounds(k: ReductionKernels, ctl: StreamControl): Promise<RowMaxBounds> {
    if (!k.rowMaxBounds) throw new Error("these kernels have no row-max bounds");
    return k.rowMaxBounds(this.left, this.rows, this.right, this.cols, this.rank, ctl);
  }

  /** Exact row maxima for chosen rows, many times over (right factor packed once). */
  async rowMaxEvaluator(k: ReductionKernels): Promise<RowMaxEvaluator> {
    if (!k.rowMaxSession) throw new Error("these kernels have no row-max sessions");
    const r = this.rank;
    const session = await k.rowMaxSession(transpose2d(this.right, this.cols, r), r, this.cols);
    return {
      run: (ids) => {
        const x = new Float32Array(ids.length * r);
        ids.forEach((id, i) => x.set(this.left.subarray(id * r, (id + 1) * r), i * r));
        return session.run(x, ids.length);
      },
      release: () => session.release(),
    };
  }

  /** Nonzero eigenvalues of a square M = L·Rᵀ are those of the rank × rank product Rᵀ·L. */
  eigenvalues(): Complex[] {
    if (this.rows !== this.cols) throw new Error(`eigenvalues of a non-square ${this.rows}×${this.cols} matrix`);
    return complexEigenvalues(gram(this.right, this.left, this.rows, this.rank, this.rank), this.rank);
  }

  /** ‖M‖_F² = Σ (LᵀL) ∘ (RᵀR): two rank × rank Gram matrices, float64. */
  frobeniusNormSquared(): number {
    const r = this.rank;
    const gl = gram(this.left, this.left, this.rows, r, r), gr = gram(this.right, this.right, this.cols, r, r);
    let s = 0;
    for (let i = 0; i < r * r; i++) s += gl[i] * gr[i];
    return Math.max(0, s);
  }

  frobeniusNorm(): number {
    return Math.sqrt(this.frobeniusNormSquared());
  }
}

/** Aᵀ·B in float64 for A [n, p] and B [n, q] (row-major) -> [p, q]. */
function gram(a: Float32Array, b: Float32Array, n: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < p; i++) {
      const av = a[k * p + i];
      if (av === 0) continue;
      const row = i * q, bo = k * q;
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
