/**
 * Training checkpoints for timeline tests: random models in a TransformerLens state dict saved as
 * torch.save does (zip of stored entries, data aligned to 64 bytes), in a hub repo laid out like
 * NeelNanda/Attn_Only_*L512W_C4_Code (config.json, model_final.pth, checkpoints/<name>_<N>.pth).
 */
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tensor } from "../../src/core/tensor";
import { ModelWeights, weightsToNamedTensors } from "../../src/core/weights";
import { randomWeights, RandomModelSpec } from "./models";
import { PickleWriter } from "./pickleWriter";
import { gaussianFiller } from "./random";
import { REPO_ROOT } from "./engine";
import { writePth } from "./zipWriter";

/** Large enough that the light read is a small share of the file (the metric runs cover 1 024 of 16 000 ids). */
export const CHECKPOINT_SPEC: RandomModelSpec = { V: 16000, D: 64, H: 4, E: 16, L: 2, bos: 1 };
export const CHECKPOINT_CTX = 128;

/** Checkpoint `seed` of a random model with a 128-token context (metric sequences of 101 tokens). */
export function checkpointWeights(seed: number, spec: RandomModelSpec = CHECKPOINT_SPEC, nCtx = CHECKPOINT_CTX): ModelWeights {
  const w = randomWeights({ ...spec, seed });
  const fill = gaussianFiller(seed + 1000);
  return { ...w, config: { ...w.config, n_ctx: nCtx }, W_pos: tensor([nCtx, spec.D], fill(new Float32Array(nCtx * spec.D), 0.3)) };
}

/** A state_dict() as torch.save writes it: float32 storages, one per tensor, entries aligned to 64 bytes. */
export function torchStateDict(w: ModelWeights): Buffer {
  const p = new PickleWriter().global("collections", "OrderedDict").emptyTuple().reduce().put(0).mark();
  const storages: Record<string, Uint8Array> = {};
  weightsToNamedTensors(w).forEach(([name, t], i) => {
    const k = String(i);
    storages[k] = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(name).rebuildTensor((s) => s.storage("FloatStorage", k, t.data.length), 0, t.shape, stride);
  });
  p.setItems().stop();
  return writePth(p.bytes(), storages, "archive", 64);
}

/** The Neel-format config.json of TransformerLens's attn-only hub repos, for these weights. */
export function neelConfig(w: ModelWeights): Record<string, unknown> {
  const c = w.config;
  return {
    n_layers: c.n_layers,
    d_model: c.d_model,
    d_head: c.d_head,
    n_heads: c.n_heads,
    n_ctx: c.n_ctx,
    d_vocab: c.d_vocab,
    tokenizer_name: "NeelNanda/gpt-neox-tokenizer-digits",
    attn_only: true,
    normalization: "LN",
    shortformer_pos: false,
    positional_embedding_type: "standard",
  };
}

/**
 * A hub root (owner/name folders, as test/support/fakeHub.ts serves) with `repo` holding a
 * checkpoint per label (weights seeded by the label's index) and the tokenizer repo of the fixtures.
 */
export function writeCheckpointRepo(root: string, repo: string, labels: number[]): ModelWeights[] {
  const dir = join(root, repo);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  const weights = labels.map((_, i) => checkpointWeights(100 + i));
  writeFileSync(join(dir, "config.json"), JSON.stringify(neelConfig(weights[0])));
  labels.forEach((label, i) => writeFileSync(join(dir, "checkpoints", `Attn_Only_2L_${label}.pth`), torchStateDict(weights[i])));
  writeFileSync(join(dir, "model_final.pth"), torchStateDict(weights.at(-1)!));
  const tokenizer = "NeelNanda/gpt-neox-tokenizer-digits";
  cpSync(join(REPO_ROOT, "test", "fixtures", "hub", tokenizer), join(root, tokenizer), { recursive: true });
  return weights;
}
