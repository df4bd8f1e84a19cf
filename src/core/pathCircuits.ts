/**
 * Composition paths: the virtual circuits of head (l, h) that pass through an earlier head
 * (l2, h2), in token space and factored (never V×V). With E = W_E and OV2 = W_V2 W_O2:
 *   k: QK[q, p] = (E_q W_Q)·(E_p OV2 W_K)        keys p are tokens (l2,h2) moved into the key position
 *   q: QK[s, k] = (E_s OV2 W_Q)·(E_k W_K)        rows s are tokens moved into the query position
 *   v: OV[s, o] = (E_s OV2 W_V W_O W_U)_o        sources s are tokens moved into the attended position
 * QK is BOS-normalized per row and OV row-mean normalized, as on the direct path.
 */
import { bosNormalized, HeadCircuits, ovCircuit, qkCircuit, tokenOV } from "./circuits";
import { MatMulFn, Products, productsOf } from "./factored";
import { PathRef } from "./report";
import { ModelWeights } from "./weights";
import { headName } from "./heads";

/** A path's circuits: k paths have no OV side, v paths no QK side. */
export type PathCircuits = Partial<HeadCircuits>;

export async function pathCircuits(
  w: ModelWeights,
  layer: number,
  head: number,
  via: PathRef,
  bos: number,
  products: MatMulFn | Products,
): Promise<PathCircuits> {
  const mm = productsOf(products);
  if (via.layer >= layer)
    throw new Error(`a path runs through an earlier layer: ${headName(via.layer, via.head)} is not before layer ${layer}`);
  const WE = w.W_E.data,
    V = w.config.d_vocab;
  // E·OV2: what the earlier head writes, for every token it attends to (V × d_model, rank d_head).
  const moved = await ovCircuit(w, via.layer, via.head).premultiply(WE, V, mm);
  if (via.type === "k") {
    const qk = await (await qkCircuit(w, layer, head).premultiply(WE, V, mm)).compose(moved.T, mm);
    return bosNormalized(qk, bos);
  }
  if (via.type === "q") {
    const { matrix, removed } = await (
      await moved.compose(qkCircuit(w, layer, head), mm)
    ).postmultiplyTransposedMinusColumn(WE, V, bos, mm);
    return { qk: matrix, bosKey: removed, ...(await tokenOV(ovCircuit(w, layer, head), WE, w, mm)) };
  }
  const ov = await (await moved.compose(ovCircuit(w, layer, head), mm)).postmultiply(w.W_U.data, V, mm);
  const { matrix, removedMean } = ov.rowCentered();
  return { ov: matrix, outputMean: removedMean };
}
