/**
 * The forward pass on one sequence of any length ≤ n_ctx, as two ONNX graphs built once per model:
 *
 * - `bodyGraph`: residual stream in → every layer's attention pattern [H, T, T], the final
 *   normalized residual [T, D] and each head's direct logit attribution to the actual next token
 *   [H, T]. Standard and shortformer positions (TransformerLens's TransformerBlock adds the
 *   shortformer embedding to ln1's output for queries and keys only), LN / LNPre / no
 *   normalization (eps 1e-5), 1/√d_head, causal mask by `where(mask, scores, -inf)` then softmax.
 * - `unembedGraph`: a block of final residual rows → top-k next tokens with log-probs, and the
 *   actual next token's log-prob and rank, with the log-softmax computed inside the graph so
 *   that [rows, V] logits never reach JavaScript.
 *
 * Embeddings are gathered in JavaScript (T × d_model) so the body graph holds no vocabulary-sized
 * matrix and builds in milliseconds.
 */
import { ModelWeights } from "../core/weights";
import type { HeadAblation } from "../protocol/whatIf";
import { addLayer, f32, GraphBuilder, i64, modelConstants, PathDeltas } from "./layerGraph";
import { ElemType, Graph } from "./onnxModel";

/** Inputs: resid0 [T, D] (token + position embeddings; token only for shortformer), pos [T, D]
 * (shortformer only), keep [T, T] bool (causal mask), dir [T, D] (final-LN-weighted, centred
 * W_U column of each position's next token). Outputs: pattern{l} [H, T, T], dla{l} [H, T], final [T, D];
 * the hooks "why" needs: v{l} and z{l} [H, T, E], with normalization lnScale{l} and finalScale [T, 1]; and
 * residPre{l} [T, D] (patching). `ablations` are built into the graph (layerGraph.ts): one graph per set. */
export function bodyGraph(w: ModelWeights, ablations: HeadAblation[] = []): Graph {
  const { n_heads: H, d_head: E, d_model: D } = w.config;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const g = new GraphBuilder();
  const { normalize } = modelConstants(g, w);
  g.inits.push(i64("heads_out", [H, E, D]));
  const zs: string[] = [];
  const deltas: PathDeltas = new Map();
  let resid = "resid0";
  w.blocks.forEach((_, l) => {
    g.hook(resid, `residPre${l}`, ["T", D]); // hook_resid_pre: where a patch from another run starts
    const out = addLayer(g, w, l, resid, normalize, { ablations, deltas });
    if (out.lnScale) g.hook(out.lnScale, `lnScale${l}`, ["T", 1]);
    g.hook(out.pattern, `pattern${l}`, [H, "T", "T"]);
    g.hook(out.v, `v${l}`, [H, "T", E]);
    g.hook(out.z, `z${l}`, [H, "T", E]);
    zs.push(out.z);
    resid = out.resid;
  });
  const outputs = g.outputs;
  if (w.ln_final_w) g.inits.push(f32("lnf_w", [D], w.ln_final_w.data));
  if (w.ln_final_b) g.inits.push(f32("lnf_b", [D], w.ln_final_b.data));
  const final = normalize(resid, w.ln_final_w && "lnf_w", w.ln_final_b && "lnf_b");
  g.hook(final.y, "final", ["T", D]);
  if (final.scale) g.hook(final.scale, "finalScale", ["T", 1]);
  // A head's logit attribution: (z_h W_O[h] − mean) / scale · dir = z_h · (W_O[h] · dir) / scale, dir centred.
  const dirT = g.op("Transpose", ["dir"], [{ name: "perm", ints: [1, 0] }]); // [D,T]
  const scaleRow = final.scale ? g.op("Transpose", [final.scale], [{ name: "perm", ints: [1, 0] }]) : undefined; // [1,T]
  g.inits.push(i64("sum_axes", [-1]));
  zs.forEach((z, l) => {
    const wo = g.op("Reshape", [`L${l}_W_O`, "heads_out"]); // [H,E,D]
    const u = g.op("Transpose", [g.op("MatMul", [wo, dirT])], [{ name: "perm", ints: [0, 2, 1] }]); // [H,T,E]
    const raw = g.op("ReduceSum", [g.op("Mul", [z, u]), "sum_axes"], [{ name: "keepdims", int: 0 }]); // [H,T]
    g.op(scaleRow ? "Div" : "Identity", scaleRow ? [raw, scaleRow] : [raw], undefined, `dla${l}`);
    outputs.push({ name: `dla${l}`, type: ElemType.FLOAT, dims: [H, "T"] });
  });
  return {
    name: "attention_body",
    inputs: [
      { name: "resid0", type: ElemType.FLOAT, dims: ["T", D] },
      ...(shortformer ? [{ name: "pos", type: ElemType.FLOAT, dims: ["T", D] }] : []),
      { name: "keep", type: ElemType.BOOL, dims: ["T", "T"] },
      { name: "dir", type: ElemType.FLOAT, dims: ["T", D] },
    ],
    outputs,
    nodes: g.nodes,
    initializers: g.inits,
  };
}

/** Inputs: x [R, D] (final normalized residual rows), next [R] int64. Outputs: topLogProb [R, K],
 * topId [R, K] int64, nextLogProb [R], above [R, 1] int32 (how many logits exceed the next token's). */
export function unembedGraph(w: ModelWeights, K: number): Graph {
  const { d_model: D, d_vocab: V } = w.config;
  const g = new GraphBuilder();
  g.inits.push(
    f32("W_U", [D, V], w.W_U.data),
    f32("b_U", [V], w.b_U.data),
    i64("k", [Math.min(K, V)]),
    i64("one", [1]),
    i64("vocab_axis", [1]),
    { name: "ones_V", type: ElemType.UINT8, dims: [V, 1], raw: new Uint8Array(V).fill(1) },
  );
  const logits = g.op("Add", [g.op("MatMul", ["x", "W_U"]), "b_U"]); // [R,V]
  const max = g.op(
    "ReduceMax",
    [logits],
    [
      { name: "axes", ints: [1] },
      { name: "keepdims", int: 1 },
    ],
  );
  const sumExp = g.op("ReduceSum", [g.op("Exp", [g.op("Sub", [logits, max])]), "vocab_axis"], [{ name: "keepdims", int: 1 }]);
  const lse = g.op("Add", [max, g.op("Log", [sumExp])]); // [R,1], stable: max subtracted before exp
  const [topV] = g.multi(
    "TopK",
    [logits, "k"],
    ["top_v", "topId"],
    [
      { name: "axis", int: -1 },
      { name: "largest", int: 1 },
      { name: "sorted", int: 1 },
    ],
  );
  g.op("Sub", [topV, lse], undefined, "topLogProb");
  const nextCol = g.op("Unsqueeze", ["next", "one"]); // [R,1]
  const nextLogit = g.op("GatherElements", [logits, nextCol], [{ name: "axis", int: 1 }]);
  g.op("Squeeze", [g.op("Sub", [nextLogit, lse]), "one"], undefined, "nextLogProb");
  // The count as a uint8 GEMV against ones: cheaper than ReduceSum over a float cast (bench/circuits.ts's count pass).
  const above = g.op("Cast", [g.op("Greater", [logits, nextLogit])], [{ name: "to", int: ElemType.UINT8 }]);
  g.op("MatMulInteger", [above, "ones_V"], undefined, "above");
  return {
    name: "attention_unembed",
    inputs: [
      { name: "x", type: ElemType.FLOAT, dims: ["R", D] },
      { name: "next", type: ElemType.INT64, dims: ["R"] },
    ],
    outputs: [
      { name: "topLogProb", type: ElemType.FLOAT, dims: ["R", K] },
      { name: "topId", type: ElemType.INT64, dims: ["R", K] },
      { name: "nextLogProb", type: ElemType.FLOAT, dims: ["R"] },
      { name: "above", type: ElemType.INT32, dims: ["R", 1] },
    ],
    nodes: g.nodes,
    initializers: g.inits,
  };
}
