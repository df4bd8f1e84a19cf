/** Model weights under TransformerLens state-dict names, checked against the config. */
import { ModelConfig, checkConfigFitsWeights } from "./config";
import { HeadLensError } from "./errors";
import { quantizedTensors } from "./quantized";
import { SafetensorsFile, TensorEntry, readFloatTensor, unsupportedDtype } from "./safetensors";
import { Tensor, firstNonFinite } from "./tensor";

export interface BlockWeights {
  ln1_w?: Tensor; // [d_model]
  ln1_b?: Tensor; // [d_model]
  W_Q: Tensor; // [n_heads, d_model, d_head]
  W_K: Tensor;
  W_V: Tensor;
  b_Q: Tensor; // [n_heads, d_head]
  b_K: Tensor;
  b_V: Tensor;
  W_O: Tensor; // [n_heads, d_head, d_model]
  b_O: Tensor; // [d_model]
}

export interface ModelWeights {
  config: ModelConfig;
  W_E: Tensor; // [d_vocab, d_model]
  W_pos: Tensor; // [n_ctx, d_model]
  blocks: BlockWeights[];
  ln_final_w?: Tensor;
  ln_final_b?: Tensor;
  W_U: Tensor; // [d_model, d_vocab]
  b_U: Tensor; // [d_vocab]
}

/** Expected shape of every tensor, by TransformerLens name. */
export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  const m = new Map<string, number[]>([
    ["embed.W_E", [c.d_vocab, c.d_model]],
    ["pos_embed.W_pos", [c.n_ctx, c.d_model]],
    ["unembed.W_U", [c.d_model, c.d_vocab]],
    ["unembed.b_U", [c.d_vocab]],
  ]);
  if (c.normalization_type === "LN") {
    m.set("ln_final.w", [c.d_model]);
    m.set("ln_final.b", [c.d_model]);
  }
  for (let l = 0; l < c.n_layers; l++) {
    const b = `blocks.${l}.`;
    if (c.normalization_type === "LN") {
      m.set(b + "ln1.w", [c.d_model]);
      m.set(b + "ln1.b", [c.d_model]);
    }
    for (const x of ["Q", "K", "V"]) {
      m.set(`${b}attn.W_${x}`, [c.n_heads, c.d_model, c.d_head]);
      m.set(`${b}attn.b_${x}`, [c.n_heads, c.d_head]);
    }
    m.set(b + "attn.W_O", [c.n_heads, c.d_head, c.d_model]);
    m.set(b + "attn.b_O", [c.d_model]);
  }
  return m;
}

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);

/**
 * Reads, shape-checks and NaN/Inf-checks every tensor the config needs. Nothing is decoded until
 * the config is known to fit the file and every required tensor is present with its shape and a
 * float dtype, so a config that claims more than the file holds costs no memory.
 */
export function weightsFromSafetensors(config: ModelConfig, file: SafetensorsFile, configLabel = "config.json"): ModelWeights {
  checkTensorTable(config, file.tensors, file.label, configLabel, file.data.byteLength, file.metadata);
  const shapes = expectedShapes(config);
  const t = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const { data, finite } = readFloatTensor(file, name);
    if (finite !== true) checkFinite(file.label, name, data); // finds what the decoder saw, or checks F32
    t.set(name, { shape, data });
  }
  return weightsFromTensors(config, t);
}

/** The structured weights of tensors by TransformerLens name (each present with its shape; LayerNorm's optional). */
export function weightsFromTensors(config: ModelConfig, t: Map<string, Tensor>): ModelWeights {
  const get = (n: string) => t.get(n)!;
  const opt = (n: string) => t.get(n);
  return {
    config,
    W_E: get("embed.W_E"),
    W_pos: get("pos_embed.W_pos"),
    blocks: Array.from({ length: config.n_layers }, (_, l) => {
      const b = `blocks.${l}.`;
      return {
        ln1_w: opt(b + "ln1.w"),
        ln1_b: opt(b + "ln1.b"),
        W_Q: get(b + "attn.W_Q"),
        W_K: get(b + "attn.W_K"),
        W_V: get(b + "attn.W_V"),
        b_Q: get(b + "attn.b_Q"),
        b_K: get(b + "attn.b_K"),
        b_V: get(b + "attn.b_V"),
        W_O: get(b + "attn.W_O"),
        b_O: get(b + "attn.b_O"),
      };
    }),
    ln_final_w: opt("ln_final.w"),
    ln_final_b: opt("ln_final.b"),
    W_U: get("unembed.W_U"),
    b_U: get("unembed.b_U"),
  };
}

/**
 * The config fits the file and every tensor it needs is present with its shape and a float dtype, or
 * quantized (quantized.ts: its logical shape, values and scales checked): everything that can be
 * known from a safetensors header, before any weight is decoded.
 */
export function checkTensorTable(
  config: ModelConfig,
  tensors: Map<string, TensorEntry>,
  label: string,
  configLabel: string,
  dataBytes: number,
  metadata: Record<string, string> = {},
): void {
  const quantized = quantizedTensors(metadata, tensors, label);
  // 4-bit weights take half a byte each: the size check allows that much, no less.
  checkConfigFitsWeights(config, configLabel, label, dataBytes, quantized.size > 0 ? 0.5 : 2);
  for (const [name, shape] of expectedShapes(config)) {
    const q = quantized.get(name);
    if (q) {
      checkShape(label, name, q.shape, shape);
      continue;
    }
    const entry = tensors.get(name);
    if (!entry) {
      throw new HeadLensError(
        `${label}: required tensor "${name}" [${shape.join(", ")}] is missing (TransformerLens state-dict names expected)`,
        "weights.missing",
      );
    }
    checkShape(label, name, entry.shape, shape);
    if (!FLOAT_DTYPES.has(entry.dtype)) throw new HeadLensError(`${label}: ${unsupportedDtype(entry.dtype, name)}`, "weights.dtype");
  }
}

export function checkShape(label: string, name: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new HeadLensError(
      `${label}: tensor "${name}" has shape [${got.join(", ")}] but config.json implies [${want.join(", ")}]`,
      "weights.shape",
    );
  }
}

/** Refuses NaN / Inf, with the count and the first position, against the user's file. */
export function checkFinite(label: string, name: string, data: Float32Array): void {
  const bad = firstNonFinite(data);
  if (bad < 0) return;
  const count = data.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
  throw new HeadLensError(
    `${label}: tensor "${name}" contains ${count} NaN/Inf value(s), first at flat index ${bad}; the weights are corrupt`,
    "weights.nonfinite",
  );
}

/** Flattens weights back into TransformerLens-named tensors (for writing safetensors). */
export function weightsToNamedTensors(w: ModelWeights): [string, Tensor][] {
  const out: [string, Tensor][] = [
    ["embed.W_E", w.W_E],
    ["pos_embed.W_pos", w.W_pos],
  ];
  w.blocks.forEach((b, l) => {
    const p = `blocks.${l}.`;
    if (b.ln1_w) out.push([p + "ln1.w", b.ln1_w]);
    if (b.ln1_b) out.push([p + "ln1.b", b.ln1_b]);
    out.push(
      [p + "attn.W_Q", b.W_Q],
      [p + "attn.W_K", b.W_K],
      [p + "attn.W_V", b.W_V],
      [p + "attn.b_Q", b.b_Q],
      [p + "attn.b_K", b.b_K],
      [p + "attn.b_V", b.b_V],
      [p + "attn.W_O", b.W_O],
      [p + "attn.b_O", b.b_O],
    );
  });
  if (w.ln_final_w) out.push(["ln_final.w", w.ln_final_w]);
  if (w.ln_final_b) out.push(["ln_final.b", w.ln_final_b]);
  out.push(["unembed.W_U", w.W_U], ["unembed.b_U", w.b_U]);
  return out;
}
