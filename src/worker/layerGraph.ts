/**
 * One attention layer as ONNX nodes, shared by the forward pass (attentionGraph.ts) and the patching
 * tail (patchGraph.ts), with the interventions TransformerLens makes with hooks:
 *
 * - a head's result ablated at every position (`hook_z` set to 0, or to its mean over positions);
 * - a path ablation: one later head's query, key or value input computed from the residual stream
 *   minus an earlier head's result plus its replacement (LN recomputed on that input, as TL's
 *   `use_split_qkv_input` hooks), everything else unchanged;
 * - a patch: given heads' z taken from another run where a mask says so (activation patching).
 */
import { ModelWeights } from "../core/weights";
import type { HeadAblation, HeadInput } from "../core/ablations";
import { ElemType, Graph, Initializer, Node } from "./onnxModel";

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

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inits: Initializer[] = [];
  readonly outputs: Graph["outputs"] = [];
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
  /** An intermediate the caller reads, under TransformerLens's hook name. */
  hook(x: string, name: string, dims: (number | string)[]): void {
    this.op("Identity", [x], undefined, name);
    this.outputs.push({ name, type: ElemType.FLOAT, dims });
  }
}

const axesLast = [{ name: "axes", ints: [-1] }];

/** The constants every layer uses; `normalize` centres and scales over d_model, then LN's weight and bias. */
export function modelConstants(g: GraphBuilder, w: ModelWeights) {
  const { n_heads: H, d_head: E } = w.config;
  const norm = w.config.normalization_type !== null;
  g.inits.push(
    f32("scale", [], [1 / Math.sqrt(E)]),
    f32("neg_inf", [], [-Infinity]),
    i64("split_heads", [0, H, E]),
    i64("merge_heads", [0, H * E]),
  );
  if (norm) g.inits.push(f32("eps", [], [LN_EPS]));
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
  return { normalize };
}

export interface LayerOut {
  resid: string;
  pattern: string;
  z: string;
  v: string;
  lnScale?: string;
}

/** Residual-stream changes bound for later heads' inputs (path ablations), by "layer:head:input". */
export type PathDeltas = Map<string, string[]>;

const pathKey = (layer: number, head: number, input: HeadInput) => `${layer}:${head}:${input}`;

/**
 * Layer l on `resid` ([T, D]). `ablations` are the run's (those of this layer act here; path
 * ablations into this layer read `deltas`); `patch` replaces z where its mask [H, T, 1] is 1.
 */
export function addLayer(
  g: GraphBuilder,
  w: ModelWeights,
  l: number,
  resid: string,
  normalize: ReturnType<typeof modelConstants>["normalize"],
  opts: { ablations?: HeadAblation[]; deltas?: PathDeltas; patch?: { z: string; mask: string } } = {},
): LayerOut {
  const { n_heads: H, d_head: E, d_model: D } = w.config;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const b = w.blocks[l];
  const p = `L${l}_`;
  const ablations = opts.ablations ?? [],
    deltas = opts.deltas ?? new Map();
  if (b.ln1_w) g.inits.push(f32(p + "ln_w", [D], b.ln1_w.data));
  if (b.ln1_b) g.inits.push(f32(p + "ln_b", [D], b.ln1_b.data));
  const ln = (x: string) => normalize(x, b.ln1_w && p + "ln_w", b.ln1_b && p + "ln_b");
  const ln1 = ln(resid);
  const xn = ln1.y;
  const qkIn = (x: string) => (shortformer ? g.op("Add", [x, "pos"]) : x);
  const weightsOf = { q: [b.W_Q.data, b.b_Q.data], k: [b.W_K.data, b.b_K.data], v: [b.W_V.data, b.b_V.data] } as const;
  const project = (input: HeadInput, x: string) => {
    const [W, bias] = weightsOf[input];
    const name = p + "W" + input;
    g.inits.push(f32(name, [D, H * E], headsSideBySide(W, H, D, E)), f32(p + "b" + input, [H * E], bias));
    const flat = g.op("Add", [g.op("MatMul", [x, name]), p + "b" + input]);
    let t = g.op("Transpose", [g.op("Reshape", [flat, "split_heads"])], [{ name: "perm", ints: [1, 0, 2] }]); // [H,T,E]
    // Path ablations into this layer: that one head's input from its own residual stream.
    for (let h = 0; h < H; h++) {
      const ds = deltas.get(pathKey(l, h, input));
      if (!ds?.length) continue;
      const alt = ds.reduce((acc: string, d: string) => g.op("Add", [acc, d]), resid);
      const xAlt = ln(alt).y;
      const tag = `${p}${input}${h}_`;
      g.inits.push(
        f32(tag + "W", [D, E], W.slice(h * D * E, (h + 1) * D * E)),
        f32(tag + "b", [E], bias.slice(h * E, (h + 1) * E)),
        f32(
          tag + "only",
          [H, 1, 1],
          Array.from({ length: H }, (_, i) => (i === h ? 1 : 0)),
        ),
        f32(
          tag + "others",
          [H, 1, 1],
          Array.from({ length: H }, (_, i) => (i === h ? 0 : 1)),
        ),
        i64(tag + "axis0", [0]),
      );
      const one = g.op("Add", [g.op("MatMul", [input === "v" ? xAlt : qkIn(xAlt), tag + "W"]), tag + "b"]); // [T,E]
      const oneH = g.op("Unsqueeze", [one, tag + "axis0"]); // [1,T,E]
      t = g.op("Add", [g.op("Mul", [t, tag + "others"]), g.op("Mul", [oneH, tag + "only"])]);
    }
    return t;
  };
  const q = project("q", qkIn(xn));
  const k = project("k", qkIn(xn));
  const v = project("v", xn);
  const kT = g.op("Transpose", [k], [{ name: "perm", ints: [0, 2, 1] }]);
  const scores = g.op("Mul", [g.op("MatMul", [q, kT]), "scale"]);
  const pattern = g.op("Softmax", [g.op("Where", ["keep", scores, "neg_inf"])], [{ name: "axis", int: -1 }]);
  let z = g.op("MatMul", [pattern, v]); // [H,T,E]
  if (opts.patch) {
    g.inits.push(f32(p + "patch_one", [], [1]));
    const keepOwn = g.op("Sub", [p + "patch_one", opts.patch.mask]);
    z = g.op("Add", [g.op("Mul", [z, keepOwn]), g.op("Mul", [opts.patch.z, opts.patch.mask])]);
  }
  z = ablateResults(
    g,
    w,
    l,
    z,
    ablations.filter((a) => a.layer === l && !a.into),
  );
  g.inits.push(f32(p + "W_O", [H * E, D], b.W_O.data), f32(p + "b_O", [D], b.b_O.data));
  for (const a of ablations.filter((x) => x.layer === l && x.into)) {
    // What the ablation changes in the stream: (replacement − z_h)·W_O[h], for the one input it reaches.
    const tag = `${p}path${a.head}_${a.into!.layer}_${a.into!.head}_${a.into!.input}_`;
    g.inits.push(i64(tag + "h", [a.head]), f32(tag + "W_O", [E, D], b.W_O.data.slice(a.head * E * D, (a.head + 1) * E * D)));
    const zh = g.op("Gather", [z, tag + "h"], [{ name: "axis", int: 0 }]); // [1,T,E]
    const change =
      a.kind === "zero"
        ? g.op("Neg", [zh])
        : g.op("Sub", [
            g.op(
              "ReduceMean",
              [zh],
              [
                { name: "axes", ints: [1] },
                { name: "keepdims", int: 1 },
              ],
            ),
            zh,
          ]);
    const delta = g.op("Squeeze", [g.op("MatMul", [change, tag + "W_O"]), tag + "h0"]); // [T,D]
    g.inits.push(i64(tag + "h0", [0]));
    const key = pathKey(a.into!.layer, a.into!.head, a.into!.input);
    deltas.set(key, [...(deltas.get(key) ?? []), delta]);
  }
  const merged = g.op("Reshape", [g.op("Transpose", [z], [{ name: "perm", ints: [1, 0, 2] }]), "merge_heads"]);
  const out = g.op("Add", [resid, g.op("Add", [g.op("MatMul", [merged, p + "W_O"]), p + "b_O"])]);
  return { resid: out, pattern, z, v, lnScale: ln1.scale };
}

/** z of the listed heads of one layer set to 0 ("zero") or to its mean over positions ("mean"). */
function ablateResults(g: GraphBuilder, w: ModelWeights, l: number, z: string, here: HeadAblation[]): string {
  if (!here.length) return z;
  const H = w.config.n_heads;
  const kind = (h: number) => here.find((a) => a.head === h)?.kind;
  const tag = `L${l}_ablate_`;
  g.inits.push(
    f32(
      tag + "keep",
      [H, 1, 1],
      Array.from({ length: H }, (_, h) => (kind(h) ? 0 : 1)),
    ),
    f32(
      tag + "mean",
      [H, 1, 1],
      Array.from({ length: H }, (_, h) => (kind(h) === "mean" ? 1 : 0)),
    ),
  );
  const mean = g.op(
    "ReduceMean",
    [z],
    [
      { name: "axes", ints: [1] },
      { name: "keepdims", int: 1 },
    ],
  ); // [H,1,E]
  return g.op("Add", [g.op("Mul", [z, tag + "keep"]), g.op("Mul", [mean, tag + "mean"])]);
}
