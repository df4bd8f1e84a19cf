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
    model_name: s.name ?? `random-V${s.V}-L${s.L}`,
    n_layers: s.L,
    d_model: s.D,
    n_heads: s.H,
    d_head: s.E,
    d_vocab: s.V,
    n_ctx: 16,
    positional_embedding_type: s.pos ?? "standard",
    normalization_type: s.norm === undefined ? "LN" : s.norm,
    attn_only: true,
    tokenizer_name: "gpt2",
    bos_token_id: s.bos ?? 0,
  };
}

export function randomWeights(s: RandomModelSpec): ModelWeights {
  const config = configFor(s);
  const fill = gaussianFiller(s.seed ?? 1);
  const { V, D, H, E } = s;
  const g = (shape: number[], std: number) => tensor(shape, fill(new Float32Array(shape.reduce((a, b) => a * b, 1)), std));
  const hasLN = config.normalization_type === "LN";
  const lnw = () =>
    tensor(
      [D],
      fill(new Float32Array(D), 0.2).map((x) => 1 + x),
    );
  return {
    config,
    W_E: g([V, D], 1 / Math.sqrt(D)),
    W_pos: g([16, D], 0.1),
    blocks: Array.from({ length: s.L }, () => ({
      ln1_w: hasLN ? lnw() : undefined,
      ln1_b: hasLN ? g([D], 0.1) : undefined,
      W_Q: g([H, D, E], 1 / Math.sqrt(D)),
      W_K: g([H, D, E], 1 / Math.sqrt(D)),
      W_V: g([H, D, E], 1 / Math.sqrt(D)),
      b_Q: g([H, E], 0.1),
      b_K: g([H, E], 0.1),
      b_V: g([H, E], 0.1),
      W_O: g([H, E, D], 1 / Math.sqrt(E)),
      b_O: g([D], 0.1),
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

/**
 * The shape of trained weights, for benchmarks of bounds that isotropic Gaussians defeat:
 *  - W_E rows and W_U columns (one per token) with log-normal norms: ×exp(σ·z), z ~ N(0, 1);
 *  - `outliers` tokens (never BOS) whose W_E rows are 5–20× longer (spread evenly);
 *  - head matrices with decaying singular spectra: W_Q = G_Q·diag(s)·R, W_K = G_K·diag(s)·R (one R
 *    per head, so QK = G_Q·diag(s²)·G_Kᵀ), W_V = G_V·diag(s)·R', W_O = R'ᵀ·diag(s)·G_Oᵀ, with
 *    s_i = exp(−i/decay) and the Frobenius norms of the isotropic weights.
 * Defaults (σ 0.5 / 0.5, 8 outliers, decay 16: QK and OV spectra fall by e every 8 directions).
 */
export interface TrainedLikeSpec extends RandomModelSpec {
  embedSigma?: number;
  unembedSigma?: number;
  outliers?: number;
  decay?: number;
}

export function trainedLikeWeights(s: TrainedLikeSpec): ModelWeights {
  const w = randomWeights(s);
  const { V, D, H, E } = s;
  const fill = gaussianFiller((s.seed ?? 1) + 7919);
  const z = fill(new Float32Array(V), 1),
    zu = fill(new Float32Array(V), 1);
  const sigma = s.embedSigma ?? 0.5,
    sigmaU = s.unembedSigma ?? 0.5,
    nOut = s.outliers ?? 8,
    bos = s.bos ?? 0;
  const scale = new Float64Array(V).map((_, v) => Math.exp(sigma * z[v]));
  for (let i = 0; i < nOut; i++) {
    const v = (bos + 1 + Math.floor(((i + 0.5) * V) / nOut)) % V;
    scale[v] = (5 + (15 * i) / Math.max(1, nOut - 1)) * Math.exp(sigma * Math.abs(z[v]));
  }
  for (let v = 0; v < V; v++) for (let d = 0; d < D; d++) w.W_E.data[v * D + d] *= scale[v];
  for (let v = 0; v < V; v++) {
    const f = Math.exp(sigmaU * zu[v]);
    for (let d = 0; d < D; d++) w.W_U.data[d * V + v] *= f;
  }
  const sv = Array.from({ length: E }, (_, i) => Math.exp(-i / (s.decay ?? 16)));
  const norm = Math.sqrt(E / sv.reduce((a, x) => a + x * x, 0)); // keeps ‖W‖_F of the isotropic weights
  const gauss = (n: number, std: number) => fill(new Float32Array(n), std);
  for (const b of w.blocks) {
    for (let h = 0; h < H; h++) {
      const R = orthogonal(E, fill),
        R2 = orthogonal(E, fill);
      // A·diag(s)·B for A [rows, E] Gaussian and B [E, E] orthogonal, written into dst at off.
      const put = (dst: Float32Array, off: number, a: Float32Array, rows: number, bm: Float64Array, f: number) => {
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < E; j++) {
            let acc = 0;
            for (let e = 0; e < E; e++) acc += a[i * E + e] * sv[e] * bm[e * E + j];
            dst[off + i * E + j] = acc * f;
          }
      };
      put(b.W_Q.data, h * D * E, gauss(D * E, 1 / Math.sqrt(D)), D, R, norm);
      put(b.W_K.data, h * D * E, gauss(D * E, 1 / Math.sqrt(D)), D, R, norm);
      put(b.W_V.data, h * D * E, gauss(D * E, 1 / Math.sqrt(D)), D, R2, norm);
      // W_O [E, D] = R2ᵀ·diag(s)·G_Oᵀ: build its transpose G_O·diag(s)·R2 [D, E] and transpose.
      const ot = new Float32Array(D * E);
      put(ot, 0, gauss(D * E, 1 / Math.sqrt(E)), D, R2, norm);
      for (let d = 0; d < D; d++) for (let e = 0; e < E; e++) b.W_O.data[h * E * D + e * D + d] = ot[d * E + e];
    }
  }
  return w;
}

/** A random n × n orthogonal matrix (Gram–Schmidt on Gaussian columns), row-major float64. */
function orthogonal(n: number, fill: (a: Float32Array, std: number) => Float32Array): Float64Array {
  const q = Float64Array.from(fill(new Float32Array(n * n), 1));
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[i * n + j] * q[i * n + k];
      for (let i = 0; i < n; i++) q[i * n + j] -= d * q[i * n + k];
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += q[i * n + j] ** 2;
    for (let i = 0; i < n; i++) q[i * n + j] /= Math.sqrt(s);
  }
  return q;
}
