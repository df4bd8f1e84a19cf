/**
 * The tail of the forward pass for activation patching: from layer L's input (the corrupted run's
 * hook_resid_pre) with some heads' z at layer L taken from the clean run (mask [H, T, 1]: 1 = take
 * it), through the later layers, to the final normalized residual at the last position. Layers before
 * L are the corrupted run's and are not recomputed.
 *
 * Inputs: resid [T, D], keep [T, T] bool, pos [T, D] (shortformer only), zPatch [H, T, E], mask [H, T, 1],
 * last [1] int64 (T − 1). Output: lastRow [1, D].
 */
import { ModelWeights } from "../core/weights";
import { addLayer, f32, GraphBuilder, modelConstants } from "./layerGraph";
import { ElemType, Graph } from "./onnxModel";

export function patchGraph(w: ModelWeights, fromLayer: number): Graph {
  const { n_heads: H, d_head: E, d_model: D } = w.config;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const g = new GraphBuilder();
  const { normalize } = modelConstants(g, w);
  let resid = "resid";
  for (let l = fromLayer; l < w.config.n_layers; l++)
    resid = addLayer(g, w, l, resid, normalize, l === fromLayer ? { patch: { z: "zPatch", mask: "mask" } } : {}).resid;
  const row = g.op("Gather", [resid, "last"], [{ name: "axis", int: 0 }]); // [1,D]
  if (w.ln_final_w) g.inits.push(f32("lnf_w", [D], w.ln_final_w.data));
  if (w.ln_final_b) g.inits.push(f32("lnf_b", [D], w.ln_final_b.data));
  g.hook(normalize(row, w.ln_final_w && "lnf_w", w.ln_final_b && "lnf_b").y, "lastRow", [1, D]);
  return {
    name: `patch_from_${fromLayer}`,
    inputs: [
      { name: "resid", type: ElemType.FLOAT, dims: ["T", D] },
      { name: "keep", type: ElemType.BOOL, dims: ["T", "T"] },
      ...(shortformer ? [{ name: "pos", type: ElemType.FLOAT, dims: ["T", D] }] : []),
      { name: "zPatch", type: ElemType.FLOAT, dims: [H, "T", E] },
      { name: "mask", type: ElemType.FLOAT, dims: [H, "T", 1] },
      { name: "last", type: ElemType.INT64, dims: [1] },
    ],
    outputs: g.outputs,
    nodes: g.nodes,
    initializers: g.inits,
  };
}
