/**
 * The forward pass of an attention-only TransformerLens model (standard positional embedding) as an
 * ONNX graph: tokens [B, T] -> logits [B, T, V] and each layer's attention pattern [B, H, T, T].
 * Built from raw (unprocessed) weights with LayerNorm as TransformerLens computes it (eps 1e-5),
 * attention scaled by 1/√d_head with a causal mask.
 */
import { ModelWeights } from "../core/weights";
import { ElemType, Graph, Initializer, Node } from "./onnxModel";

const LN_EPS = 1e-5;

function f32(name: string, dims: number[], data: Float32Array | number[]): Initializer {
  const a = data instanceof Float32Array ? data : Float32Array.from(data);
  return { name, type: ElemType.FLOAT, dims, raw: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) };
}

function i64(name: string, values: number[]): Initializer {
  const a = BigInt64Array.from(values.map(BigInt));
  return { name, type: ElemType.INT64, dims: [values.length], raw: new Uint8Array(a.buffer) };
}

/** [H, A, B] -> [A, H*B]: all heads side by side, so one MatMul projects every head. */
function headsSideBySide(data: Float32Array, H: number, A: number, B: number): Float32Array {
  const out = new Float32Array(H * A * B);
  for (let h = 0; h < H; h++) for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) out[a * H * B + h * B + b] = data[(h * A + a) * B + b];
  return out;
}

/** withLogits = false leaves out the unembedding (patterns only: a [B, T, V] output can be hundreds of MB). */
export function forwardGraph(w: ModelWeights, T: number, withLogits = true): Graph {
  const { n_heads: H, d_head: E, d_model: D, d_vocab: V } = w.config;
  if (w.config.positional_embedding_type !== "standard") throw new Error("forward pass: only standard positional embeddings are supported");
  if (T > w.config.n_ctx) throw new Error(`forward pass: ${T} tokens exceed n_ctx ${w.config.n_ctx}`);
  const nodes: Node[] = [];
  const inits: Initializer[] = [];
  const outputs: Graph["outputs"] = withLogits ? [{ name: "logits", type: ElemType.FLOAT, dims: ["B", T, V] }] : [];
  let n = 0;
  const op = (type: string, inputs: string[], attributes?: Node["attributes"]) => {
    const out = `t${n++}`;
    nodes.push({ op: type, inputs, outputs: [out], attributes });
    return out;
  };
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  inits.push(
    f32("W_E", [V, D], w.W_E.data), f32("W_pos", [T, D], w.W_pos.data.subarray(0, T * D)),
    f32("mask", [T, T], mask), f32("scale", [], [1 / Math.sqrt(E)]),
    i64("split_heads", [0, T, H, E]), i64("merge_heads", [0, T, H * E]),
  );
  if (withLogits) inits.push(f32("W_U", [D, V], w.W_U.data), f32("b_U", [V], w.b_U.data));
  if (w.config.normalization_type !== null) inits.push(f32("eps", [], [LN_EPS])); // unused initializers make onnxruntime warn
  const layerNorm = (x: string, wName?: string, bName?: string) => {
    if (w.config.normalization_type === null) return x;
    const centred = op("Sub", [x, op("ReduceMean", [x], [{ name: "axes", ints: [-1] }])]);
    const variance = op("ReduceMean", [op("Mul", [centred, centred])], [{ name: "axes", ints: [-1] }]);
    let y = op("Div", [centred, op("Sqrt", [op("Add", [variance, "eps"])])]);
    if (wName) y = op("Mul", [y, wName]);
    if (bName) y = op("Add", [y, bName]);
    return y;
  };
  let resid = op("Add", [op("Gather", ["W_E", "tokens"], [{ name: "axis", int: 0 }]), "W_pos"]);
  w.blocks.forEach((b, l) => {
    const p = `L${l}_`;
    if (b.ln1_w) inits.push(f32(p + "ln_w", [D], b.ln1_w.data));
    if (b.ln1_b) inits.push(f32(p + "ln_b", [D], b.ln1_b.data));
    const xn = layerNorm(resid, b.ln1_w && p + "ln_w", b.ln1_b && p + "ln_b");
    const project = (name: string, W: Float32Array, bias: Float32Array) => {
      inits.push(f32(p + "W" + name, [D, H * E], headsSideBySide(W, H, D, E)), f32(p + "b" + name, [H * E], bias));
      const flat = op("Add", [op("MatMul", [xn, p + "W" + name]), p + "b" + name]);
      return op("Transpose", [op("Reshape", [flat, "split_heads"])], [{ name: "perm", ints: [0, 2, 1, 3] }]); // [B,H,T,E]
    };
    const q = project("Q", b.W_Q.data, b.b_Q.data);
    const k = project("K", b.W_K.data, b.b_K.data);
    const kT = op("Transpose", [k], [{ name: "perm", ints: [0, 1, 3, 2] }]);
    const scores = op("Add", [op("Mul", [op("MatMul", [q, kT]), "scale"]), "mask"]);
    const pattern = `pattern${l}`;
    nodes.push({ op: "Softmax", inputs: [scores], outputs: [pattern], attributes: [{ name: "axis", int: -1 }] });
    outputs.push({ name: pattern, type: ElemType.FLOAT, dims: ["B", H, T, T] });
    if (!withLogits && l === w.blocks.length - 1) return; // nothing reads the last layer's output
    const v = project("V", b.W_V.data, b.b_V.data);
    const z = op("Reshape", [op("Transpose", [op("MatMul", [pattern, v])], [{ name: "perm", ints: [0, 2, 1, 3] }]), "merge_heads"]);
    inits.push(f32(p + "W_O", [H * E, D], b.W_O.data), f32(p + "b_O", [D], b.b_O.data));
    resid = op("Add", [resid, op("Add", [op("MatMul", [z, p + "W_O"]), p + "b_O"])]);
  });
  if (withLogits) {
    if (w.ln_final_w) inits.push(f32("lnf_w", [D], w.ln_final_w.data));
    if (w.ln_final_b) inits.push(f32("lnf_b", [D], w.ln_final_b.data));
    const final = layerNorm(resid, w.ln_final_w && "lnf_w", w.ln_final_b && "lnf_b");
    nodes.push({ op: "Add", inputs: [op("MatMul", [final, "W_U"]), "b_U"], outputs: ["logits"] });
  }
  return {
    name: "attn_only_forward",
    inputs: [{ name: "tokens", type: ElemType.INT64, dims: ["B", T] }],
    outputs,
    nodes,
    initializers: inits,
  };
}
