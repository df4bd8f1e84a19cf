/**
 * Exact key selection without the full V² pass. For every key, a cheap upper bound on its
 * importance comes from clustered query and output vectors (clusterBounds.ts):
 *   maxQK[k] ≤ UQ[k],  0 ≤ maxOV[k] ≤ UO[k]  (OVn rows have zero mean, so their max is ≥ 0)
 *   imp[k] = maxQK·maxOV·p^0.1 ≤ p^0.1 · (UQ ≥ 0 ? UQ·UO : 0)
 * Keys are then evaluated exactly (one d_head×V product each, batched on onnxruntime) in decreasing
 * bound order until the (n + margin)-th best exact importance exceeds the next bound: no key left
 * can enter the report, so it is the dense strategy's report.
 *
 * When the bounds are too loose to pay (isotropic random weights: every key's bound beats the
 * threshold), the first batch shows it and the head falls back to the dense pass, so the worst case
 * costs the dense pass plus the bounds (≈ 10–20 %).
 */
import { HeadCircuits } from "../core/circuits";
import { HeadReport } from "../core/report";
import { keyReports, topK } from "../core/selection";
import { transpose2d } from "../core/tensor";
import { kMeans, maxInnerProductBounds } from "./clusterBounds";
import { circuitsFor, denseFromCircuits, HeadAnalysis, HeadJob, headDetails, RunControl, CANDIDATE_MARGIN } from "./headAnalysis";
import { OrtBackend } from "./ortBackend";

export interface PruneStats {
  /** Keys whose importance was computed exactly. */
  evaluated: number;
  vocab: number;
  boundMs: number;
  exactMs: number;
  /** The bounds were too loose and the dense pass ran instead. */
  fellBack: boolean;
}

/** ~48 points a cluster (1024 clusters for a 48k vocabulary): bounds cost ≈ 1/50 of the dense pass. */
const clustersFor = (V: number) => Math.max(64, Math.min(1024, Math.round(V / 48)));
const KMEANS_ITERATIONS = 1;
const BATCH = 128;
/** Fall back to the dense pass when more than this share of keys could still enter the report. */
const FALLBACK_SHARE = 0.4;

export interface PruneTuning {
  batch?: number;
  /** Share of keys still "alive" after the first batch above which the dense pass takes over. */
  fallbackShare?: number;
}

export async function analyzeHeadPruned(backend: OrtBackend, job: HeadJob, ctl: RunControl, tuning: PruneTuning = {}): Promise<HeadAnalysis & { stats: PruneStats }> {
  const batchSize = tuning.batch ?? BATCH, fallbackShare = tuning.fallbackShare ?? FALLBACK_SHARE;
  const { d_vocab: V, d_head: E } = job.weights.config;
  ctl.check();
  const circuits = await circuitsFor(backend, job);
  ctl.check();
  const t0 = performance.now();
  const bound = await importanceBounds(backend, circuits, job.priorW, V, E);
  ctl.progress?.(0.2);
  const t1 = performance.now();
  const order = Array.from(bound.keys()).sort((a, b) => bound[b] - bound[a] || a - b);
  const want = Math.min(V, job.sizes.nKeys + CANDIDATE_MARGIN);
  const imp = new Float64Array(V).fill(Number.NaN);
  const [qSession, oSession] = await Promise.all([
    backend.rowMaxSession(transpose2d(circuits.qk.left, V, E), E, V),
    backend.rowMaxSession(transpose2d(circuits.ov.right, V, E), E, V),
  ]);
  const best: number[] = []; // exact importances of the current top `want`, ascending
  let evaluated = 0, released = false;
  try {
    while (evaluated < V) {
      ctl.check();
      const threshold = best.length === want ? best[0] : -Infinity;
      if (bound[order[evaluated]] < threshold) break; // no remaining key can reach the top
      const batch = order.slice(evaluated, evaluated + batchSize);
      const keys = gather(circuits.qk.right, batch, E), sources = gather(circuits.ov.left, batch, E);
      const [maxQK, maxOV] = await Promise.all([qSession.run(keys, batch.length), oSession.run(sources, batch.length)]);
      batch.forEach((k, i) => {
        imp[k] = maxQK[i] * maxOV[i] * job.priorW[k];
        insertTop(best, imp[k], want);
      });
      evaluated += batch.length;
      ctl.progress?.(0.2 + 0.8 * Math.min(1, evaluated / V));
      if (evaluated === batch.length && best.length === want) {
        let alive = 0;
        for (let i = evaluated; i < V && bound[order[i]] >= best[0]; i++) alive++;
        if (alive > fallbackShare * V) {
          await Promise.all([qSession.release(), oSession.release()]);
          released = true;
          const dense = await denseFromCircuits(backend, circuits, job, ctl);
          return { ...dense, stats: { evaluated: V, vocab: V, boundMs: t1 - t0, exactMs: performance.now() - t1, fellBack: true } };
        }
      }
    }
  } finally {
    if (!released) await Promise.all([qSession.release(), oSession.release()]);
  }
  const candidates = topK(imp, want).filter((k) => !Number.isNaN(imp[k]));
  const keys = keyReports(circuits, candidates, job.priorW, job.sizes, job.label).slice(0, job.sizes.nKeys);
  const report: HeadReport = { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys };
  return {
    report, details: headDetails(report, circuits, job), circuits, importance: undefined,
    stats: { evaluated, vocab: V, boundMs: t1 - t0, exactMs: performance.now() - t1, fellBack: false },
  };
}

async function importanceBounds(backend: OrtBackend, c: HeadCircuits, priorW: Float64Array, V: number, E: number): Promise<Float64Array> {
  const [qClusters, oClusters] = [
    await kMeans(backend, c.qk.left, V, E, clustersFor(V), KMEANS_ITERATIONS, 1),
    await kMeans(backend, c.ov.right, V, E, clustersFor(V), KMEANS_ITERATIONS, 2),
  ];
  const uq = await maxInnerProductBounds(backend, qClusters, c.qk.right, V, E); // over queries, per key
  const uo = await maxInnerProductBounds(backend, oClusters, c.ov.left, V, E); // over outputs, per source
  const out = new Float64Array(V);
  for (let k = 0; k < V; k++) {
    if (!(uq[k] === uq[k]) || !(uo[k] === uo[k])) throw new Error(`importance bound of key ${k} is NaN`); // never prune on a broken bound
    out[k] = priorW[k] * (uq[k] >= 0 ? uq[k] * Math.max(0, uo[k]) : 0);
  }
  return out;
}

function gather(rows: Float32Array, ids: number[], dim: number): Float32Array {
  const out = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => out.set(rows.subarray(id * dim, (id + 1) * dim), i * dim));
  return out;
}

/** Keeps the `size` largest values, ascending (best[0] is the admission threshold). */
function insertTop(best: number[], v: number, size: number): void {
  if (Number.isNaN(v)) return;
  if (best.length === size && v <= best[0]) return;
  let i = 0;
  while (i < best.length && best[i] < v) i++;
  best.splice(i, 0, v);
  if (best.length > size) best.shift();
}
