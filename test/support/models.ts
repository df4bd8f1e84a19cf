/** Builds models for tests and benchmarks and writes them in the local model format. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelConfig, NormalizationType, PositionalEmbeddingType } from "../../src/core/config";
import { FloatDType, writeSafetensors } from "../../src/core/safetensors";
import { tensor } from "../../src/core/tensor";
import { ModelWeights, weightsToNamedTensors } from "../../src/core/weights";
import { gaussianFiller } from "./random";

export interface RandomModelSpec {
  V: number;
  D: number;
  H: number;
  E: number;
  L: number;
  norm?: NormalizationType;
  pos?: PositionalEmbeddingType;
  seed?: number;
  name?: string;
  bos?: number;
}

export function configFor(s: RandomModelSpec): ModelConfig {
  return {
    model_name: s.name ?? `random-V${s.V}-L${s.L}`, n_layers: s.L, d_model: s.D, n_heads: s.H, d_head: s.E,
    d_vocab: s.V, n_ctx: 16, positional_embedding_type: s.pos ?? "standard",
    normalization_type: s.norm === undefined ? "LN" : s.norm, attn_only: true, tokenizer_name: "gpt2",
    bos_token_id: s.bos ?? 0,
  };
}

export function randomWeights(s: RandomModelSpec): ModelWeights {
  const config = configFor(s);
  const fill = gaussianFiller(s.seed ?? 1);
  const { V, D, H, E } = s;
  const g = (shape: number[], std: number) => tensor(shape, fill(new Float32Array(shape.reduce((a, b) => a * b, 1)), std));
  const hasLN = config.normalization_type === "LN";
  const lnw = () => tensor([D], fill(new Float32Array(D), 0.2).map((x) => 1 + x));
  return {
    config,
    W_E: g([V, D], 1 / Math.sqrt(D)),
    W_pos: g([16, D], 0.1),
    blocks: Array.from({ length: s.L }, () => ({
      ln1_w: hasLN ? lnw() : undefined,
      ln1_b: hasLN ? g([D], 0.1) : undefined,
      W_Q: g([H, D, E], 1 / Math.sqrt(D)), W_K: g([H, D, E], 1 / Math.sqrt(D)), W_V: g([H, D, E], 1 / Math.sqrt(D)),
      b_Q: g([H, E], 0.1), b_K: g([H, E], 0.1), b_V: g([H, E], 0.1),
      W_O: g([H, E, D], 1 / Math.sqrt(E)), b_O: g([D], 0.1),
    })),
    ln_final_w: hasLN ? lnw() : undefined,
    ln_final_b: hasLN ? g([D], 0.1) : undefined,
    W_U: g([D, V], 1 / Math.sqrt(D)),
    b_U: g([V], 0.1),
  };
}

export function writeModelDir(dir: string, w: ModelWeights, dtype: FloatDType = "F32", extraConfig: Record<string, unknown> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...w.config, ...extraConfig }, null, 2));
  const tensors = weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype, shape: t.shape, data: t.data }));
  writeFileSync(join(dir, "model.safetensors"), writeSafetensors(tensors));
  return dir;
}
