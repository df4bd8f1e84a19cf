/** Model configuration with TransformerLens HookedTransformerConfig names, validated. */
import { HeadLensError } from "./errors";

export type PositionalEmbeddingType = "standard" | "shortformer";
export type NormalizationType = "LN" | "LNPre" | null;

export interface ModelConfig {
  model_name: string;
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  d_vocab: number;
  n_ctx: number;
  positional_embedding_type: PositionalEmbeddingType;
  normalization_type: NormalizationType;
  attn_only: true;
  tokenizer_name: string;
  bos_token_id?: number;
  /** Head Lens extension: file (in the model folder) mapping model ids onto tokenizer ids. */
  vocab_map?: string;
  /** Head Lens extension: file with the model's own unigram token counts (the "bundled" prior). */
  priors?: string;
}

/**
 * Upper bounds checked before anything is allocated from a config. Each is far above any real
 * attention-only model (TransformerLens's are 1–4 layers, d_model 512, d_vocab 48 262) and above
 * today's largest transformers (≈ 120 layers, d_model ≈ 25 600, vocabularies ≈ 256 k, contexts of 1 M
 * tokens), yet keeps every derived count (tensor names, shapes, the parameter total) small and exact.
 */
export const CONFIG_LIMITS = {
  n_layers: 1024,
  n_heads: 1024,
  d_model: 65_536,
  d_head: 65_536,
  d_vocab: 4_194_304, // 2^22
  n_ctx: 1_048_576, // 2^20
} as const;

/** config.json is ≈ 1 KB (Hugging Face configs with label maps ≈ 50 KB): larger is not a config. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const POSITIVE_INTS = ["n_layers", "d_model", "n_heads", "d_head", "d_vocab", "n_ctx"] as const;

export function parseConfig(raw: unknown, label: string, fallbackName: string): ModelConfig {
  const bad = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}`, "config.invalid");
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("config.json must hold a JSON object");
  const c = raw as Record<string, unknown>;
  for (const k of POSITIVE_INTS) {
    if (!Number.isSafeInteger(c[k]) || (c[k] as number) <= 0) {
      bad(`"${k}" must be a positive integer (got ${preview(c[k])}); use TransformerLens HookedTransformerConfig names`);
    }
    if ((c[k] as number) > CONFIG_LIMITS[k])
      bad(`"${k}" ${c[k]} exceeds Head Lens's limit of ${CONFIG_LIMITS[k]}; is config.json for this model?`);
  }
  if (c.attn_only !== true) bad(`"attn_only" must be true: Head Lens analyzes attention-only transformers (got ${preview(c.attn_only)})`);
  const pos = c.positional_embedding_type ?? "standard";
  if (pos !== "standard" && pos !== "shortformer") {
    bad(`"positional_embedding_type" ${preview(pos)} is not supported; use "standard" or "shortformer"`);
  }
  const norm = c.normalization_type === undefined ? "LN" : c.normalization_type;
  if (norm !== "LN" && norm !== "LNPre" && norm !== null) {
    bad(`"normalization_type" ${preview(norm)} is not supported; use "LN", "LNPre" or null`);
  }
  if (typeof c.tokenizer_name !== "string" || c.tokenizer_name === "") bad(`"tokenizer_name" must be a string such as "gpt2"`);
  if (
    c.bos_token_id !== undefined &&
    (!Number.isSafeInteger(c.bos_token_id) || (c.bos_token_id as number) < 0 || (c.bos_token_id as number) >= (c.d_vocab as number))
  ) {
    bad(`"bos_token_id" ${preview(c.bos_token_id)} must be an id in [0, d_vocab=${c.d_vocab})`);
  }
  for (const k of ["vocab_map", "priors"] as const) {
    if (c[k] !== undefined && (typeof c[k] !== "string" || /[\\/]|^\.\.?$/.test(c[k] as string))) {
      bad(`"${k}" must be a plain file name inside the model folder`);
    }
  }
  return {
    model_name: typeof c.model_name === "string" && c.model_name ? c.model_name : fallbackName,
    n_layers: c.n_layers as number,
    d_model: c.d_model as number,
    n_heads: c.n_heads as number,
    d_head: c.d_head as number,
    d_vocab: c.d_vocab as number,
    n_ctx: c.n_ctx as number,
    positional_embedding_type: pos as PositionalEmbeddingType,
    normalization_type: norm as NormalizationType,
    attn_only: true,
    tokenizer_name: c.tokenizer_name as string,
    bos_token_id: c.bos_token_id as number | undefined,
    vocab_map: c.vocab_map as string | undefined,
    priors: c.priors as string | undefined,
  };
}

/** A config value for an error message: one line, at most 60 characters. */
function preview(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = typeof v;
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Number of weights the config implies (every tensor of expectedShapes), without building it. */
export function impliedParameterCount(c: ModelConfig): number {
  const ln = c.normalization_type === "LN" ? 2 * c.d_model : 0;
  const perLayer = 4 * c.n_heads * c.d_model * c.d_head + 3 * c.n_heads * c.d_head + c.d_model + ln;
  return 2 * c.d_vocab * c.d_model + c.d_vocab + c.n_ctx * c.d_model + c.n_layers * perLayer + ln;
}

/**
 * Refuses a config whose tensors cannot fit in the weights file before anything is allocated for
 * them: even at 2 bytes per weight (F16/BF16, the smallest float dtype read; 0.5 for a file with
 * 4-bit quantized tensors, quantized.ts) they need more bytes than the file's tensor data holds.
 */
export function checkConfigFitsWeights(
  c: ModelConfig,
  configLabel: string,
  weightsLabel: string,
  tensorBytes: number,
  minBytesPerWeight = 2,
): void {
  // No tensor data at all is the weights file's fault, whatever the config says.
  if (tensorBytes === 0)
    throw new HeadLensError(
      `${weightsLabel}: holds no tensor data: it is not a model's weights (or they were saved in another file)`,
      "weights.empty",
    );
  const params = impliedParameterCount(c);
  if (params * minBytesPerWeight > tensorBytes) {
    const dims = POSITIVE_INTS.map((k) => `${k}=${c[k]}`).join(", ");
    throw new HeadLensError(
      `${configLabel}: ${dims} imply ${params.toLocaleString("en-US")} weights (≥ ${(params * minBytesPerWeight).toLocaleString("en-US")} bytes) ` +
        `but ${weightsLabel} holds ${tensorBytes.toLocaleString("en-US")} bytes of tensor data; config.json does not describe these weights`,
      "config.mismatch",
    );
  }
}
