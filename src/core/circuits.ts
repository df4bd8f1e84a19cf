/**
 * A head's circuits as factored matrices, in d_model space and in token space.
 *   QK(l,h) = W_Q W_Kᵀ, OV(l,h) = W_V W_O                 (d_model × d_model, rank d_head)
 * Token space, normalized as in the reference notebook (the direct path):
 *   QKn[q, k] = (W_E W_Q)_q · ((W_E W_K)_k − (W_E W_K)_BOS)          (row = query, col = key)
 *   OVn[s, o] = (W_E W_V)_s · ((W_O W_U)_{:,o} − mean_o (W_O W_U)_{:,o})  (row = source, col = output)
 * No biases, no 1/√d_head, no positional terms.
 */
import { FactoredMatrix, jsMatMul, MatMulFn, Products } from "./factored";
import { ModelWeights } from "./weights";
import { slice0 } from "./tensor";

export type { MatMulFn, Products } from "./factored";
export { jsMatMul } from "./factored";

export interface HeadCircuits {
  qk: FactoredMatrix;
  ov: FactoredMatrix;
  /** (W_E W_K)_BOS, subtracted from every key: QK[q, BOS] = queries_q · bosKey. */
  bosKey: Float32Array;
  /** mean_o (W_O W_U)_{:,o}, subtracted from every output: mean_o OV[s, o] = sources_s · outputMean. */
  outputMean: Float64Array;
}

/** QK[q, BOS] of the un-normalized circuit: what the BOS normalization subtracts from query q's row. */
export function bosScore(c: Pick<HeadCircuits, "qk" | "bosKey">, q: number): number {
  return c.qk.leftDot(q, c.bosKey);
}

/** mean_o OV[s, o] of the un-normalized circuit: what the row-mean normalization subtracts from source s's row. */
export function outputRowMean(c: Pick<HeadCircuits, "ov" | "outputMean">, s: number): number {
  return c.ov.leftDot(s, c.outputMean);
}

/** W_Q W_Kᵀ of one head, d_model × d_model (rows read the query position, columns the key's). */
export function qkCircuit(w: ModelWeights, layer: number, head: number): FactoredMatrix {
  const { d_model: D, d_head: E } = w.config;
  const b = w.blocks[layer];
  return FactoredMatrix.fromFactors(slice0(b.W_Q, head).data, slice0(b.W_K, head).data, D, D, E);
}

/** W_V W_O of one head, d_model × d_model (what it moves from the source into the destination). */
export function ovCircuit(w: ModelWeights, layer: number, head: number): FactoredMatrix {
  const { d_model: D, d_head: E } = w.config;
  const b = w.blocks[layer];
  return FactoredMatrix.fromProduct(slice0(b.W_V, head).data, slice0(b.W_O, head).data, D, E, D);
}

/** QK expanded to token space with its BOS normalization; rows and columns embedded by the given maps. */
export async function tokenQK(
  qk: FactoredMatrix,
  queries: Float32Array,
  keys: Float32Array,
  V: number,
  bos: number,
  mm: MatMulFn | Products,
): Promise<{ qk: FactoredMatrix; bosKey: Float32Array }> {
  const { matrix, removed } = await (await qk.premultiply(queries, V, mm)).postmultiplyTransposedMinusColumn(keys, V, bos, mm);
  return { qk: matrix, bosKey: removed };
}

/** A token-space QK minus its BOS column, and the BOS key's factor row. `full` must be a product
 * just made: its right factor is reused. */
export function bosNormalized(full: FactoredMatrix, bos: number): { qk: FactoredMatrix; bosKey: Float32Array } {
  const E = full.rank,
    bosKey = full.right.slice(bos * E, (bos + 1) * E);
  return { qk: full.minusColumn(bos, true), bosKey };
}

/** OV expanded to token space (sources embedded, outputs unembedded by W_U) with its row-mean normalization. */
export async function tokenOV(
  ov: FactoredMatrix,
  sources: Float32Array,
  w: ModelWeights,
  mm: MatMulFn | Products,
): Promise<{ ov: FactoredMatrix; outputMean: Float64Array }> {
  const V = w.config.d_vocab;
  const { matrix, removedMean } = await (await ov.premultiply(sources, V, mm)).postmultiplyRowCentered(w.W_U.data, V, mm);
  return { ov: matrix, outputMean: removedMean };
}

/** The direct path of one head: W_E on both sides of QK, W_E and W_U around OV. */
export async function headCircuits(
  w: ModelWeights,
  layer: number,
  head: number,
  bos: number,
  mm: MatMulFn | Products = jsMatMul,
): Promise<HeadCircuits> {
  const WE = w.W_E.data,
    V = w.config.d_vocab;
  const { qk, bosKey } = await tokenQK(qkCircuit(w, layer, head), WE, WE, V, bos, mm);
  const { ov, outputMean } = await tokenOV(ovCircuit(w, layer, head), WE, w, mm);
  return { qk, ov, bosKey, outputMean };
}
