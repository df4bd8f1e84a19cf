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
import { Dim, ElemType, Graph, Initializer, Node } from "./onnxModel";

export const LN_EPS = 1e-5;

export function f32(name: string, dims: number[], data: Float32Array | number[]): Initializer {
  const a = data instanceof Float32Array ? data : Float32Array.from(data);
  return { name, type: ElemType.FLOAT, dims, raw: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) };
}

export function i64(name: string, values: number[]): Initializer {
  const a = BigInt64Array.from(values.map(BigInt));
  return { name, type: ElemType.INT64, dims: [values.length], raw: new Uint8Array(a.buffer) };
}

/** [H, A, B] -> [A, H*B]: all heads side by side, so one MatMul projects every head. */
export function headsSideBySide(data: Float32Array, H: number, A: number, B: number): Float32Array {
  const out = new Float32Array(H * A * B);
  for (let h = 0; h < H; h++)
    for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) out[a * H * B + h * B + b] = data[(h * A + a) * B + b];
  return out;
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inits: Initializer[] = [];
  private n = 0;
  op(type: string, inputs: string[], attributes?: Node["attributes"], name?: string): string {
    const out = name ?? `t${this.n++}`;
    this.nodes.push({ op: type, inputs, outputs: [out], attributes });
    return out;
  }
  multi(type: string, inputs: string[], outputs: string[], attributes?: Node["attributes"]): string[] {
    this.nodes.push({ op: type, inputs, outputs, attributes });
    return outputs;
  }
}

const axesLast = [{ name: "axes", ints: [-1] }];

/** Inputs: resid0 [T, D] (token + position embeddings; token only for shortformer), pos [T, D]
 * (shortformer only), keep [T, T] bool (causal mask), dir [T, D] (final-LN-weighted, centred
 * W_U column of each position's next token). Outputs: pattern{l} [H, T, T], dla{l} [H, T], final [T, D];
 * and the hooks "why" needs: v{l} and z{l} [H, T, E], with normalization lnScale{l} and finalScale [T, 1]. */
export function bodyGraph(w: ModelWeights): Graph {
  const { n_heads: H, d_head: E, d_model: D } = w.config;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const norm = w.config.normalization_type !== null;
  const g = new GraphBuilder();
  g.inits.push(
    f32("scale", [], [1 / Math.sqrt(E)]),
    f32("neg_inf", [], [-Infinity]),
    i64("split_heads", [0, H, E]),
    i64("merge_heads", [0, H * E]),
    i64("heads_out", [H, E, D]),
  );
  if (norm) g.inits.push(f32("eps", [], [LN_EPS]));
  /** Centre and scale over d_model (LNPre), then the weight and bias if the model has them (LN). */
  const normalize = (x: string, wName?: string, bName?: string): { y: string; scale?: string } => {
    if (!norm) return { y: x };
    const centred = g.op("Sub", [x, g.op("ReduceMean", [x], axesLast)]);
    const variance = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axesLast);
    const scale = g.op("Sqrt", [g.op("Add", [variance, "eps"])]);
    let y = g.op("Div", [centred, scale]);
    if (wName) y = g.op("Mul", [y, wName]);
    if (bName) y = g.op("Add", [y, bName]);
    return { y, scale };
  };
  const outputs: Graph["outputs"] = [];
  /** An intermediate the run keeps for "why" (core/scoreAttribution.ts), under TransformerLens's hook name. */
  const hook = (x: string, name: string, dims: Dim[]) => {
    g.op("Identity", [x], undefined, name);
    outputs.push({ name, type: ElemType.FLOAT, dims });
  };
  const zs: string[] = [];
  let resid = "resid0";
  w.blocks.forEach((b, l) => {
    const p = `L${l}_`;
    if (b.ln1_w) g.inits.push(f32(p + "ln_w", [D], b.ln1_w.data));
    if (b.ln1_b) g.inits.push(f32(p + "ln_b", [D], b.ln1_b.data));
    const ln1 = normalize(resid, b.ln1_w && p + "ln_w", b.ln1_b && p + "ln_b");
    const xn = ln1.y;
    if (ln1.scale) hook(ln1.scale, `lnScale${l}`, ["T", 1]);
    const qkIn = shortformer ? g.op("Add", [xn, "pos"]) : xn;
    const project = (name: string, x: string, W: Float32Array, bias: Float32Array) => {
      g.inits.push(f32(p + "W" + name, [D, H * E], headsSideBySide(W, H, D, E)), f32(p + "b" + name, [H * E], bias));
      const flat = g.op("Add", [g.op("MatMul", [x, p + "W" + name]), p + "b" + name]);
      return g.op("Transpose", [g.op("Reshape", [flat, "split_heads"])], [{ name: "perm", ints: [1, 0, 2] }]); // [H,T,E]
    };
    const q = project("Q", qkIn, b.W_Q.data, b.b_Q.data);
    const k = project("K", qkIn, b.W_K.data, b.b_K.data);
    const v = project("V", xn, b.W_V.data, b.b_V.data);
    const kT = g.op("Transpose", [k], [{ name: "perm", ints: [0, 2, 1] }]);
    const scores = g.op("Mul", [g.op("MatMul", [q, kT]), "scale"]);
    const pattern = g.op("Softmax", [g.op("Where", ["keep", scores, "neg_inf"])], [{ name: "axis", int: -1 }], `pattern${l}`);
    outputs.push({ name: pattern, type: ElemType.FLOAT, dims: [H, "T", "T"] });
    const z = g.op("MatMul", [pattern, v]); // [H,T,E]
    zs.push(z);
    hook(v, `v${l}`, [H, "T", E]);
    hook(z, `z${l}`, [H, "T", E]);
    const merged = g.op("Reshape", [g.op("Transpose", [z], [{ name: "perm", ints: [1, 0, 2] }]), "merge_heads"]);
    g.inits.push(f32(p + "W_O", [H * E, D], b.W_O.data), f32(p + "b_O", [D], b.b_O.data));
    resid = g.op("Add", [resid, g.op("Add", [g.op("MatMul", [merged, p + "W_O"]), p + "b_O"])]);
  });
  if (w.ln_final_w) g.inits.push(f32("lnf_w", [D], w.ln_final_w.data));
  if (w.ln_final_b) g.inits.push(f32("lnf_b", [D], w.ln_final_b.data));
  const final = normalize(resid, w.ln_final_w && "lnf_w", w.ln_final_b && "lnf_b");
  hook(final.y, "final", ["T", D]);
  if (final.scale) hook(final.scale, "finalScale", ["T", 1]);
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
 * topId [R, K] int64, nextLogProb [R], above [R] (how many logits exceed the next token's). */
export function unembedGraph(w: ModelWeights, K: number): Graph {
  const { d_model: D, d_vocab: V } = w.config;
  const g = new GraphBuilder();
  g.inits.push(
    f32("W_U", [D, V], w.W_U.data),
    f32("b_U", [V], w.b_U.data),
    i64("k", [Math.min(K, V)]),
    i64("one", [1]),
    i64("vocab_axis", [1]),
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
  const above = g.op("Cast", [g.op("Greater", [logits, nextLogit])], [{ name: "to", int: ElemType.FLOAT }]);
  g.op("ReduceSum", [above, "vocab_axis"], [{ name: "keepdims", int: 0 }], "above");
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
      { name: "above", type: ElemType.FLOAT, dims: ["R"] },
    ],
    nodes: g.nodes,
    initializers: g.inits,
  };
}
