/** Neel Nanda's config.json (the hub's attn-only models) -> HookedTransformerConfig names. */
import { ModelConfig, parseConfig } from "./config";
import { HeadLensError } from "./errors";

/** The tokenizer the NeelNanda attn-only models were trained with. */
export const NEEL_TOKENIZER = "NeelNanda/gpt-neox-tokenizer-digits";

/** Neel's configs say "normalization" / "shortformer_pos" / "act_fn"; HookedTransformerConfig's don't. */
export function isNeelConfig(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && ("normalization" in raw || "shortformer_pos" in raw || "act_fn" in raw);
}

/** Neel's config.json -> HookedTransformerConfig fields (TransformerLens's convert_neel_model_config). */
export function convertNeelConfig(raw: unknown, label: string, modelName: string): ModelConfig {
  const c = raw as Record<string, unknown>;
  if (typeof c !== "object" || c === null) throw new HeadLensError(`${label}: config.json is not a JSON object`, "config.invalid");
  const tl: Record<string, unknown> = {
    model_name: modelName,
    d_model: c.d_model,
    n_layers: c.n_layers,
    d_head: c.d_head,
    n_heads: c.n_heads,
    n_ctx: c.n_ctx,
    d_vocab: c.d_vocab,
    tokenizer_name: c.tokenizer_name ?? NEEL_TOKENIZER,
    attn_only: c.attn_only,
    normalization_type: "normalization" in c ? c.normalization : c.normalization_type,
    positional_embedding_type: "shortformer_pos" in c ? (c.shortformer_pos ? "shortformer" : "standard") : "standard",
  };
  return parseConfig(tl, label, modelName);
}

/** A config.json in either naming (TransformerLens's or Neel's), validated. */
export function parseAnyConfig(raw: unknown, label: string, modelName: string): ModelConfig {
  return isNeelConfig(raw) ? convertNeelConfig(raw, label, modelName) : parseConfig(raw, label, modelName);
}
