/**
 * What the heavy work of core code runs on: products and V-sized reductions, implemented by the
 * worker on onnxruntime (worker/ortKernels.ts) and by tests in plain JavaScript. Optional members
 * are faster or fused forms; core code falls back when a kernel set lacks one.
 */
import { matmul } from "./tensor";

/** C[m,n] = A[m,k] · B[k,n]; the worker passes an onnxruntime kernel, tests a plain one. */
export type MatMulFn = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => Float32Array | Promise<Float32Array>;

export const jsMatMul: MatMulFn = matmul;

/**
 * The products circuits are built from. `matmul` is required; the fused forms are optional (plain
 * JavaScript otherwise) and each must give the very float32 numbers of its unfused form, so the
 * reports do not depend on which ran.
 */
export interface Products {
  matmul: MatMulFn;
  /** Aᵀ·B for A [k, m] and B [k, n], as [m, n]: the product a transpose of (Bᵀ·A) would give. */
  matmulTA?(a: Float32Array, b: Float32Array, k: number, m: number, n: number): Promise<Float32Array>;
  /** C = A·B [m, n] and every row of C minus row `row`, rounded to float32 (JavaScript's fround(x − y)); and that row. */
  matmulMinusRow?(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    row: number,
  ): Promise<{ diff: Float32Array; row: Float32Array }>;
}

/** A bare matmul as Products. */
export function productsOf(mm: MatMulFn | Products): Products {
  return typeof mm === "function" ? { matmul: mm } : mm;
}

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
export interface ReductionKernels extends Products {
  /** Σ_e A[i, e]² per row of A [n, r], summed in float32 in any order (upper bounds: normsFromSquares). */
  rowNormsSq?(a: Float32Array, n: number, r: number): Promise<Float32Array>;
  /** A·B and its rows' squared norms (as rowNormsSq), in one pass; `keepProduct` false: the norms only. */
  matmulNormsSq?(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    keepProduct: boolean,
  ): Promise<{ product?: Float32Array; normsSq: Float32Array }>;
  /** out[i] = max_j (X·Y)[i, j] for X = rows × inner and Y = inner × cols, streamed in row blocks. */
  rowMax(x: Float32Array, y: Float32Array, rows: number, inner: number, cols: number, ctl: StreamControl): Promise<Float32Array>;
  /** Rigorous intervals on max_j x_i·y_j (x: rows × dim, y: cols × dim), e.g. from an int8 pass. */
  rowMaxBounds?(x: Float32Array, rows: number, y: Float32Array, cols: number, dim: number, ctl: StreamControl): Promise<RowMaxBounds>;
  /**
   * For X·Yᵀ (x rows × inner, y cols × inner, both as they are), streamed in blocks: per row i, how
   * many entries are > hi[i] and how many are ≥ lo[i]; and per column, the max over all rows.
   */
  rowCountsAndColMax?(
    x: Float32Array,
    rows: number,
    y: Float32Array,
    cols: number,
    inner: number,
    lo: Float32Array,
    hi: Float32Array,
    ctl: StreamControl,
  ): Promise<{ above: Int32Array; atLeast: Int32Array; colMax: Float32Array }>;
  /** out[i] = max_j x_i·y_j for x [rows, inner] and y [cols, inner] as they are (no packed session), streamed in row blocks. */
  rowMaxOfRows?(x: Float32Array, rows: number, y: Float32Array, cols: number, inner: number, ctl: StreamControl): Promise<Float32Array>;
  /** X·Yᵀ for x [rows, inner] and y [cols, inner] as they are: rows × cols, float32. */
  rowsOf?(x: Float32Array, rows: number, y: Float32Array, cols: number, inner: number): Promise<Float32Array>;
  /** AᵀA for A = n × r (float32 is enough: only the tightness of cheap bounds depends on it). */
  gram?(a: Float32Array, n: number, r: number): Promise<Float32Array>;
  /** A session with Y (inner × cols) fixed, for repeated blocks of rows. */
  rowMaxSession?(
    y: Float32Array,
    inner: number,
    cols: number,
  ): Promise<{ run(x: Float32Array, rows: number): Promise<Float32Array>; release(): Promise<void> }>;
}
