/**
 * A head's QK and OV circuits in token space, normalized as in the reference notebook and kept
 * factored (rank d_head):
 *   QKn[q, k] = (W_E W_Q)_q · ((W_E W_K)_k − (W_E W_K)_BOS)         (row = query, col = key)
 *   OVn[s, o] = (W_E W_V)_s · ((W_O W_U)_{:,o} − mean_o (W_O W_U)_{:,o})  (row = source, col = output)
 * No biases, no 1/√d_head, no positional terms: the notebook's direct path.
 */
import { FactoredMatrix } from "./factored";
import { ModelWeights } from "./weights";
import { matmul, slice0, transpose2d } from "./tensor";

/** C[m,n] = A[m,k] · B[k,n]; the engine passes an onnxruntime kernel, tests a plain one. */
export type MatMulFn = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => Float32Array | Promise<Float32Array>;

export const jsMatMul: MatMulFn = matmul;

export interface HeadCircuits {
  qk: FactoredMatrix;
  ov: FactoredMatrix;
  /** (W_E W_K)_BOS, subtracted from every key: QK[q, BOS] = queries_q · bosKey. */
  bosKey: Float32Array;
  /** mean_o (W_O W_U)_{:,o}, subtracted from every output: mean_o OV[s, o] = sources_s · outputMean. */
  outputMean: Float64Array;
}

export async function headCircuits(w: ModelWeights, layer: number, head: number, bos: number, mm: MatMulFn = jsMatMul): Promise<HeadCircuits> {
  const { d_vocab: V, d_model: D, d_head: E } = w.config;
  const blk = w.blocks[layer];
  const WE = w.W_E.data;
  const queries = await mm(WE, slice0(blk.W_Q, head).data, V, D, E);
  const keys = await mm(WE, slice0(blk.W_K, head).data, V, D, E);
  const bosKey = keys.slice(bos * E, (bos + 1) * E);
  subtractRow(keys, V, E, bos);
  const sources = await mm(WE, slice0(blk.W_V, head).data, V, D, E);
  const ou = await mm(slice0(blk.W_O, head).data, w.W_U.data, E, D, V); // [E, V]
  const outputMean = centerRowsF64(ou, E, V);
  const outputs = transpose2d(ou, E, V); // [V, E]
  return {
    qk: new FactoredMatrix(queries, keys, V, V, E),
    ov: new FactoredMatrix(sources, outputs, V, V, E),
    bosKey,
    outputMean,
  };
}

function subtractRow(a: Float32Array, rows: number, cols: number, r: number): void {
  const base = a.slice(r * cols, (r + 1) * cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) a[i * cols + c] -= base[c];
}

/** Centres each row in place; returns the removed means. */
function centerRowsF64(a: Float32Array, rows: number, cols: number): Float64Array {
  const means = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[r * cols + c];
    const m = s / cols;
    means[r] = m;
    for (let c = 0; c < cols; c++) a[r * cols + c] -= m;
  }
  return means;
}
