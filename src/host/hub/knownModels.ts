/**
 * TransformerLens's attention-only models on the Hugging Face hub, and the conversion of their
 * Neel-format config.json to HookedTransformerConfig names (as TL's convert_neel_model_config).
 */
import { ModelConfig, parseConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";

export interface HubModelSpec {
  /** TransformerLens's alias, e.g. "attn-only-2l". */
  name: string;
  repo: string;
  layers: number;
  tokenizerRepo: string;
  /** Known shape, so the tree can list layers and heads before anything is downloaded. */
  heads?: number;
  dModel?: number;
  dHead?: number;
  dVocab?: number;
}

const TOKENIZER = "NeelNanda/gpt-neox-tokenizer-digits";

export const HUB_MODELS: HubModelSpec[] = [1, 2, 3, 4].map((n) => ({
  name: `attn-only-${n}l`,
  repo: `NeelNanda/Attn_Only_${n}L512W_C4_Code`,
  layers: n,
  tokenizerRepo: TOKENIZER,
  heads: 8,
  dModel: 512,
  dHead: 64,
  dVocab: 48262,
}));

export function hubModel(name: string): HubModelSpec | undefined {
  return HUB_MODELS.find((m) => m.name === name.toLowerCase() || m.repo.toLowerCase() === name.toLowerCase());
}

/** Neel's config.json -> HookedTransformerConfig fields (TransformerLens's convert_neel_model_config). */
export function convertNeelConfig(raw: unknown, label: string, modelName: string): ModelConfig {
  const c = raw as Record<string, unknown>;
  if (typeof c !== "object" || c === null) throw new HeadLensError(`${label}: config.json is not a JSON object`, "config.invalid");
  const tl: Record<string, unknown> = {
    model_name: modelName,
    d_model: c.d_model, n_layers: c.n_layers, d_head: c.d_head, n_heads: c.n_heads, n_ctx: c.n_ctx, d_vocab: c.d_vocab,
    tokenizer_name: c.tokenizer_name ?? TOKENIZER,
    attn_only: c.attn_only,
    normalization_type: "normalization" in c ? c.normalization : c.normalization_type,
    positional_embedding_type: "shortformer_pos" in c ? (c.shortformer_pos ? "shortformer" : "standard") : "standard",
  };
  return parseConfig(tl, label, modelName);
}
