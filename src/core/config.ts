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

const POSITIVE_INTS = ["n_layers", "d_model", "n_heads", "d_head", "d_vocab", "n_ctx"] as const;

export function parseConfig(raw: unknown, label: string, fallbackName: string): ModelConfig {
  const bad = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}`, "config.invalid");
  };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("config.json must hold a JSON object");
  const c = raw as Record<string, unknown>;
  for (const k of POSITIVE_INTS) {
    if (!Number.isSafeInteger(c[k]) || (c[k] as number) <= 0) {
      bad(`"${k}" must be a positive integer (got ${JSON.stringify(c[k])}); use TransformerLens HookedTransformerConfig names`);
    }
  }
  if (c.attn_only !== true) bad(`"attn_only" must be true: Head Lens analyzes attention-only transformers (got ${JSON.stringify(c.attn_only)})`);
  const pos = c.positional_embedding_type ?? "standard";
  if (pos !== "standard" && pos !== "shortformer") {
    bad(`"positional_embedding_type" ${JSON.stringify(pos)} is not supported; use "standard" or "shortformer"`);
  }
  const norm = c.normalization_type === undefined ? "LN" : c.normalization_type;
  if (norm !== "LN" && norm !== "LNPre" && norm !== null) {
    bad(`"normalization_type" ${JSON.stringify(norm)} is not supported; use "LN", "LNPre" or null`);
  }
  if (typeof c.tokenizer_name !== "string" || c.tokenizer_name === "") bad(`"tokenizer_name" must be a string such as "gpt2"`);
  if (c.bos_token_id !== undefined && (!Number.isSafeInteger(c.bos_token_id) || (c.bos_token_id as number) < 0 || (c.bos_token_id as number) >= (c.d_vocab as number))) {
    bad(`"bos_token_id" ${JSON.stringify(c.bos_token_id)} must be an id in [0, d_vocab=${c.d_vocab})`);
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
