/**
 * TransformerLens's attention-only models on the Hugging Face hub. Their Neel-format config.json
 * maps to HookedTransformerConfig names in core/neelConfig.ts (re-exported here).
 */
import { NEEL_TOKENIZER } from "../../core/neelConfig";

export { convertNeelConfig } from "../../core/neelConfig";

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

export const HUB_MODELS: HubModelSpec[] = [1, 2, 3, 4].map((n) => ({
  name: `attn-only-${n}l`,
  repo: `NeelNanda/Attn_Only_${n}L512W_C4_Code`,
  layers: n,
  tokenizerRepo: NEEL_TOKENIZER,
  heads: 8,
  dModel: 512,
  dHead: 64,
  dVocab: 48262,
}));

export function hubModel(name: string): HubModelSpec | undefined {
  return HUB_MODELS.find((m) => m.name === name.toLowerCase() || m.repo.toLowerCase() === name.toLowerCase());
}
