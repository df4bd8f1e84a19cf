/**
 * "What if": ablations on a run (AttentionParams.ablations) and activation patching between a clean
 * and a corrupted text (EngineApi `patch`), with TransformerLens semantics on processed weights
 * (README, Definitions; the mathematics is worker/layerGraph.ts and worker/patching.ts).
 */
import type { AttentionInput, RunToken } from "./attention";

export type { HeadAblation, HeadInput } from "../core/ablations";

/** A token named by text (one token of the model's tokenizer, e.g. " the") or by id. */
export type TokenChoice = { text: string } | { id: number };

export interface PatchParams {
  modelDir: string;
  /** Same length once tokenized (BOS prepended to texts, as `attention` does). */
  clean: AttentionInput;
  corrupt: AttentionInput;
  /** Default: the clean run's top prediction at the last position. */
  answer?: TokenChoice;
  /** Default: the corrupted run's top prediction there (an error asks for one when it equals the answer). */
  wrong?: TokenChoice;
  /** Also patch each head at each position separately (L × H × T runs: meant for short texts). */
  positions?: boolean;
  /** Patch only this head at each position separately (T runs: a panel's click); the other rows of `positions` are NaN. */
  positionsOf?: { layer: number; head: number };
}

export interface PatchResult {
  model: string;
  identity: string;
  nLayers: number;
  nHeads: number;
  cleanTokens: RunToken[];
  corruptTokens: RunToken[];
  answer: { id: number; token: string };
  wrong: { id: number; token: string };
  /** The metric logit[answer] − logit[wrong] at the last position, on the clean and the corrupted run. */
  clean: number;
  corrupt: number;
  /** [L × H]: the metric on the corrupted run with that head's result at every position taken from the clean run. */
  heads: Float64Array;
  /** [L × H × T], with `positions` or `positionsOf`: the same, patching one position at a time. */
  positions?: Float64Array;
  elapsedMs: number;
}
