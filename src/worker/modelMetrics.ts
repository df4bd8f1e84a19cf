/** The "metrics" request: every head's traits and the composition scores, cached per model identity. */
import { compositionScores, copyingScores, metricSequences, patternScores } from "../core/headMetrics";
import { HeadMetrics, ModelMetrics } from "../protocol/engine";
import { runForward } from "./forward";
import { StoredModel } from "./modelStore";
import { OrtBackend } from "./ortBackend";

export async function modelMetrics(stored: StoredModel, backend: OrtBackend): Promise<ModelMetrics & { identity: string }> {
  if (stored.metrics) return stored.metrics;
  const w = stored.model.weights; // processed: the same function as the raw weights (tested), the same circuits as the reports
  const { n_layers: L, n_heads: H, d_vocab: V, n_ctx } = w.config;
  const mm = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => backend.matmul(a, b, m, k, n);
  const copying = await copyingScores(w, mm);
  const { tokens, repeat } = metricSequences(V, stored.model.vocab.bos, n_ctx);
  const patterns = w.config.positional_embedding_type === "standard" ? (await runForward(backend, w, tokens, false)).patterns : undefined;
  const T = tokens[0].length;
  const heads: HeadMetrics[] = [];
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) {
    const p = patterns ? patternScores(patterns[l], tokens.length, H, T, h, repeat) : { prevToken: NaN, induction: NaN, duplicateToken: NaN, bos: NaN };
    heads.push({ layer: l, head: h, copying: copying[l][h], ...p });
  }
  const composition = { q: await compositionScores(w, "q", mm), k: await compositionScores(w, "k", mm), v: await compositionScores(w, "v", mm) };
  stored.metrics = { model: w.config.model_name, identity: stored.identity, heads, composition };
  return stored.metrics;
}
