/** The "metrics" request: every head's traits and the composition scores, cached per model identity. */
import { compositionSet, copyingScores, metricSequences, ModelMetrics, patternScores } from "../core/headMetrics";
import type { LightMetrics } from "../protocol/timeline";
import { ModelWeights } from "../core/weights";
import { bodyGraph } from "./attentionGraph";
import { runBody } from "./attentionRun";
import { ModelStore, StoredModel } from "./modelStore";
import { OrtBackend } from "./ortBackend";
import { ResultCache } from "./resultCache";

export interface MetricsDeps {
  store: ModelStore;
  backend: () => Promise<OrtBackend>;
  cache?: ResultCache;
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

/** A model's metrics: from the cache under its content identity (no weight is loaded), else computed once. */
export async function metricsRequest(modelDir: string, deps: MetricsDeps): Promise<ModelMetrics & { identity: string }> {
  const { identity } = deps.store.lookup({ modelDir, priors: "uniform" });
  const hit = deps.cache?.getMetrics(identity.model);
  if (hit) return { ...hit, identity: identity.model };
  return deps.exclusive(async () => {
    const stored = deps.store.load(modelDir);
    const metrics = deps.store.metrics(stored) ?? (await modelMetrics(stored, await deps.backend()));
    deps.store.rememberMetrics(stored, metrics);
    deps.cache?.putMetrics(stored.identity, metrics);
    return { ...metrics, identity: stored.identity };
  });
}

export async function modelMetrics(stored: StoredModel, backend: OrtBackend): Promise<ModelMetrics> {
  const w = stored.model.weights; // processed: the same function as the raw weights (tested), the same circuits as the reports
  const mm = matmulOn(backend);
  const copying = await copyingScores(w, mm);
  const sequences = metricSequences(w.config.d_vocab, stored.model.vocab.bos, w.config.n_ctx);
  const { heads, composition } = await weightMetrics(w, sequences, backend);
  return {
    model: w.config.model_name,
    heads: heads.map(({ layer, head, ...scores }) => ({ layer, head, copying: copying[layer][head], ...scores })),
    composition,
  };
}

const matmulOn = (backend: OrtBackend) => (a: Float32Array, b: Float32Array, m: number, k: number, n: number) =>
  backend.matmul(a, b, m, k, n);

/** The metrics every checkpoint of a timeline gets (all but copying), from processed weights and the metric sequences. */
export async function weightMetrics(
  w: ModelWeights,
  { tokens, repeat }: { tokens: number[][]; repeat: number },
  backend: OrtBackend,
): Promise<LightMetrics> {
  const { n_layers: L, n_heads: H } = w.config;
  const mm = matmulOn(backend);
  const patterns = await batchPatterns(backend, w, tokens);
  const T = tokens[0].length;
  const heads: LightMetrics["heads"] = [];
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++) heads.push({ layer: l, head: h, ...patternScores(patterns[l], tokens.length, H, T, h, repeat) });
  const composition = await compositionSet(w, mm);
  return { heads, composition };
}

/** Each layer's attention patterns [B, H, T, T] over equal-length sequences, from the live-attention forward graph. */
export async function batchPatterns(backend: OrtBackend, w: ModelWeights, sequences: number[][]): Promise<Float32Array[]> {
  const { n_layers: L, n_heads: H } = w.config;
  const B = sequences.length,
    T = sequences[0].length,
    size = H * T * T;
  const out = Array.from({ length: L }, () => new Float32Array(B * size));
  const session = await backend.createSession(bodyGraph(w));
  try {
    for (let b = 0; b < B; b++) {
      const { patterns } = await runBody(backend, session, w, sequences[b]);
      patterns.forEach((p, l) => out[l].set(p, b * size));
    }
  } finally {
    await session.release();
  }
  return out;
}
