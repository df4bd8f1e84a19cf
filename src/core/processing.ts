/**
 * TransformerLens weight processing with `from_pretrained` defaults: fold_ln,
 * center_writing_weights, center_unembed, fold_value_biases (in that order). Shortformer models get
 * only the last (TL switches the first three off for them). Returns new tensors (input untouched)
 * unless asked to work in place.
 */
import { ModelWeights, BlockWeights } from "./weights";
import { Tensor, clone } from "./tensor";

export interface ProcessingSteps {
  fold_ln: boolean;
  center_writing_weights: boolean;
  center_unembed: boolean;
  fold_value_biases: boolean;
}

export function defaultSteps(w: ModelWeights): ProcessingSteps {
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const hasNorm = w.config.normalization_type !== null;
  return {
    fold_ln: !shortformer && hasNorm,
    center_writing_weights: !shortformer && hasNorm,
    center_unembed: !shortformer,
    fold_value_biases: true,
  };
}

/** `inPlace` processes the given tensors themselves (the model store drops the raw copy anyway: 200 MB less at V = 48k). */
export function processWeights(input: ModelWeights, steps: ProcessingSteps = defaultSteps(input), inPlace = false): ModelWeights {
  const w = inPlace ? { ...input, blocks: input.blocks.map((b) => ({ ...b })) } : cloneWeights(input);
  if (steps.fold_ln) foldLayerNorm(w);
  if (steps.center_writing_weights) centerWritingWeights(w);
  processUnembed(w, steps); // fold_ln's and center_unembed's parts (center_writing_weights leaves W_U alone)
  if (steps.fold_value_biases) foldValueBiases(w);
  return w;
}

function cloneWeights(w: ModelWeights): ModelWeights {
  const opt = (t?: Tensor) => (t ? clone(t) : undefined);
  return {
    config: w.config,
    W_E: clone(w.W_E),
    W_pos: clone(w.W_pos),
    blocks: w.blocks.map((b): BlockWeights => ({
      ln1_w: opt(b.ln1_w),
      ln1_b: opt(b.ln1_b),
      W_Q: clone(b.W_Q),
      W_K: clone(b.W_K),
      W_V: clone(b.W_V),
      b_Q: clone(b.b_Q),
      b_K: clone(b.b_K),
      b_V: clone(b.b_V),
      W_O: clone(b.W_O),
      b_O: clone(b.b_O),
    })),
    ln_final_w: opt(w.ln_final_w),
    ln_final_b: opt(w.ln_final_b),
    W_U: clone(w.W_U),
    b_U: clone(w.b_U),
  };
}

/** LN -> LNPre: biases folded into the next layer's biases, scales into its weights, then the
 * reading weights are centred over d_model (LNPre's output has zero mean, so this is exact).
 * The unembedding's share is in processUnembed. */
function foldLayerNorm(w: ModelWeights): void {
  const { n_heads: H, d_model: D, d_head: E } = w.config;
  for (const b of w.blocks) {
    for (const [W, bias] of [
      [b.W_Q, b.b_Q],
      [b.W_K, b.b_K],
      [b.W_V, b.b_V],
    ] as const) {
      for (let h = 0; h < H; h++) {
        const base = h * D * E;
        if (b.ln1_b) {
          for (let d = 0; d < D; d++) {
            const lb = b.ln1_b.data[d];
            for (let e = 0; e < E; e++) bias.data[h * E + e] += lb * W.data[base + d * E + e];
          }
        }
        if (b.ln1_w) for (let d = 0; d < D; d++) scaleRange(W.data, base + d * E, E, b.ln1_w.data[d]);
        centerColumns(W.data, base, D, E);
      }
    }
    b.ln1_w = undefined;
    b.ln1_b = undefined;
  }
}

/** Everything that writes to the residual stream loses its d_model mean (LN removes it anyway). */
function centerWritingWeights(w: ModelWeights): void {
  const D = w.config.d_model;
  centerRows(w.W_E.data, w.W_E.data.length / D, D);
  centerRows(w.W_pos.data, w.W_pos.data.length / D, D);
  for (const b of w.blocks) {
    centerRows(b.W_O.data, b.W_O.data.length / D, D);
    centerRows(b.b_O.data, 1, D);
  }
}

/**
 * W_U [d_model, V] and b_U: fold_ln's final-LN fold (b_U += ln_b·W_U, W_U scaled by ln_w, then
 * each column centred over d_model), then center_unembed's centring of each row over the
 * vocabulary (softmax is translation invariant). The same float operations in the same order as
 * one step after the other, in fewer sweeps over the 100 MB matrix (≈ 2× faster at V = 48k).
 */
function processUnembed(w: ModelWeights, steps: ProcessingSteps): void {
  const { d_model: D, d_vocab: V } = w.config,
    W = w.W_U.data,
    bU = w.b_U.data;
  const rows = steps.center_unembed;
  if (steps.fold_ln) {
    const lb = w.ln_final_b?.data,
      lw = w.ln_final_w?.data,
      colMean = new Float64Array(V);
    for (let d = 0, o = 0; d < D; d++, o += V) {
      const bd = lb ? lb[d] : 0,
        sd = lw ? lw[d] : 1; // without a scale, x·1 is exact
      for (let v = 0; v < V; v++) {
        const x = W[o + v],
          y = Math.fround(x * sd);
        if (lb) bU[v] += bd * x; // skipped without a bias: b_U += 0·x would turn a −0 into +0
        W[o + v] = y;
        colMean[v] += y;
      }
    }
    for (let v = 0; v < V; v++) colMean[v] /= D;
    for (let d = 0, o = 0; d < D; d++, o += V) {
      let s = 0;
      for (let v = 0; v < V; v++) {
        const y = Math.fround(W[o + v] - colMean[v]);
        W[o + v] = y;
        s += y; // the stored float32, as centerRows sums
      }
      if (rows) subtractRange(W, o, V, s / V); // while the row is in cache
    }
    w.ln_final_w = undefined;
    w.ln_final_b = undefined;
  } else if (rows) centerRows(W, D, V);
  if (rows) centerRows(bU, 1, V);
}

/** Attention patterns sum to 1, so b_V contributes the constant b_V·W_O: move it into b_O. */
function foldValueBiases(w: ModelWeights): void {
  const { n_heads: H, d_model: D, d_head: E } = w.config;
  for (const b of w.blocks) {
    const acc = new Float64Array(D);
    for (let h = 0; h < H; h++) {
      for (let e = 0; e < E; e++) {
        const bv = b.b_V.data[h * E + e];
        const row = (h * E + e) * D;
        for (let d = 0; d < D; d++) acc[d] += bv * b.W_O.data[row + d];
      }
    }
    for (let d = 0; d < D; d++) b.b_O.data[d] += acc[d];
    b.b_V.data.fill(0);
  }
}

function scaleRange(a: Float32Array, start: number, n: number, s: number): void {
  for (let i = start; i < start + n; i++) a[i] *= s;
}

function subtractRange(a: Float32Array, start: number, n: number, m: number): void {
  for (let i = start; i < start + n; i++) a[i] -= m;
}

/** a[offset + r*cols + c] -= mean_c over each of `rows` rows. */
export function centerRows(a: Float32Array, rows: number, cols: number, offset = 0): void {
  for (let r = 0; r < rows; r++) {
    const base = offset + r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[base + c];
    const m = s / cols;
    for (let c = 0; c < cols; c++) a[base + c] -= m;
  }
}

/** For a [rows, cols] block at offset: subtract each column's mean over the rows. */
export function centerColumns(a: Float32Array, offset: number, rows: number, cols: number): void {
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += a[offset + r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) a[offset + r * cols + c] -= mean[c];
}
