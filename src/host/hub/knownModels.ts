/**
 * Attention-only models on the Hugging Face hub that Head Lens knows by name: TransformerLens's
 * attn-only-1l … 4l (their Neel-format config.json maps to HookedTransformerConfig names in
 * core/neelConfig.ts, re-exported here) and the 2-layer model of ARENA's induction-heads chapter,
 * whose repo holds only the checkpoint: its config lives in the course's code, so it lives here too.
 */
import { NEEL_TOKENIZER } from "../../core/neelConfig";

export { convertNeelConfig } from "../../core/neelConfig";

export interface HubModelSpec {
  /** The name Head Lens lists it under, e.g. "attn-only-2l" (TransformerLens's alias). */
  name: string;
  repo: string;
  layers: number;
  tokenizerRepo: string;
  /** The checkpoint in the repo; without it, the first file ending in final.pth (TransformerLens's rule). */
  file?: string;
  /** HookedTransformerConfig fields (plus Head Lens's bos_token_id), for a repo without config.json (the config lives in someone's code). */
  config?: Record<string, unknown>;
  /** Where the inline config comes from, for messages. */
  configSource?: string;
  /** Known shape, so the tree can list layers and heads before anything is downloaded. */
  heads?: number;
  dModel?: number;
  dHead?: number;
  dVocab?: number;
}

const NEEL_MODELS: HubModelSpec[] = [1, 2, 3, 4].map((n) => ({
  name: `attn-only-${n}l`,
  repo: `NeelNanda/Attn_Only_${n}L512W_C4_Code`,
  layers: n,
  tokenizerRepo: NEEL_TOKENIZER,
  heads: 8,
  dModel: 512,
  dHead: 64,
  dVocab: 48262,
}));

/**
 * ARENA 3.0, chapter 1.2 "Intro to mech interp", section "Finding induction heads": the course builds
 * HookedTransformer(cfg) with this config and loads attn_only_2L_half.pth into it (load_state_dict,
 * no weight processing). seed, attention_dir "causal" and use_attn_result change nothing Head Lens
 * computes. BOS is the tokenizer's bos_token, <|endoftext|> = 0, which to_tokens prepends.
 */
export const ARENA_ATTN_ONLY_2L_CONFIG: Record<string, unknown> = {
  model_name: "arena-attn-only-2l",
  d_model: 768,
  d_head: 64,
  n_heads: 12,
  n_layers: 2,
  n_ctx: 2048,
  d_vocab: 50278,
  attn_only: true,
  tokenizer_name: "EleutherAI/gpt-neox-20b",
  normalization_type: null,
  positional_embedding_type: "shortformer",
  bos_token_id: 0,
};

const ARENA_MODEL: HubModelSpec = {
  name: "arena-attn-only-2l",
  repo: "callummcdougall/attn_only_2L_half",
  file: "attn_only_2L_half.pth",
  layers: 2,
  tokenizerRepo: "EleutherAI/gpt-neox-20b",
  config: ARENA_ATTN_ONLY_2L_CONFIG,
  configSource: "ARENA's induction-heads chapter (built into Head Lens: the repo has no config.json)",
  heads: 12,
  dModel: 768,
  dHead: 64,
  dVocab: 50278,
};

export const HUB_MODELS: HubModelSpec[] = [...NEEL_MODELS, ARENA_MODEL];

/** A model by its Head Lens name or its repo (any case). */
export function hubModel(name: string): HubModelSpec | undefined {
  const n = name.toLowerCase();
  return HUB_MODELS.find((m) => m.name === n || m.repo.toLowerCase() === n);
}

/** The repo's checkpoint among its files: the spec's own, else the first ending in final.pth, as TransformerLens takes it. */
export function checkpointFile(spec: HubModelSpec, files: string[]): string | undefined {
  return spec.file ? files.find((f) => f === spec.file) : files.find((f) => f.endsWith("final.pth"));
}
