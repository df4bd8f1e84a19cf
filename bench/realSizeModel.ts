/**
 * Writes a random model of the TransformerLens attn-only shape (V = 48 262, d_model 512, d_head 64,
 * 8 heads per layer, n_ctx 1024) as a model folder for the CLI, plus its processed weights (F32
 * safetensors) for the peers. KIND: isotropic (Gaussian everything, the default) or trained-like
 * (log-normal token norms, outlier tokens, decaying head spectra; test/support/models.ts).
 *   node out/bench/realSizeModel.js OUT_DIR [LAYERS] [KIND]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { writeSafetensors } from "../src/core/safetensors";
import { ModelWeights, weightsToNamedTensors } from "../src/core/weights";
import { randomWeights, trainedLikeWeights, writeModelDir } from "../test/support/models";

export type RealSizeKind = "isotropic" | "trained-like";

/** The raw (unprocessed) weights of the real-size model, named `${kind}-48k-${layers}l`. */
export function realSizeWeights(layers: number, kind: RealSizeKind): ModelWeights {
  const spec = { V: 48262, D: 512, H: 8, E: 64, L: layers, seed: 48262, name: `${kind}-48k-${layers}l` };
  const raw = kind === "isotropic" ? randomWeights(spec) : trainedLikeWeights(spec);
  raw.config.n_ctx = 1024;
  raw.W_pos = { shape: [1024, 512], data: new Float32Array(1024 * 512).map((_, i) => 0.05 * Math.sin(i * 0.37)) };
  return raw;
}

/** Writes OUT/model (F16, for the CLI) and OUT/processed.safetensors (F32, for the peers). */
export function writeRealSizeModel(out: string, layers: number, kind: RealSizeKind): void {
  const raw = realSizeWeights(layers, kind);
  mkdirSync(out, { recursive: true });
  writeModelDir(join(out, "model"), raw, "F16");
  const w = processWeights(raw);
  writeFileSync(
    join(out, "processed.safetensors"),
    writeSafetensors(weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, data: t.data }))),
  );
}

if (require.main === module) {
  const [out, layers = "2", kind = "isotropic"] = process.argv.slice(2);
  if (kind !== "isotropic" && kind !== "trained-like") throw new Error(`KIND must be isotropic or trained-like, not ${kind}`);
  writeRealSizeModel(out, Number(layers), kind);
  console.log(`wrote ${out}/model (F16) and ${out}/processed.safetensors`);
}
