/**
 * Exact key selection without the float32 V² pass. For every key, an interval on its importance
 * comes from one int8 pass per circuit with rigorous error bounds (int8Bounds.ts):
 *   maxQK[k] ∈ [LQ, UQ],  maxOV[k] ∈ [max(0, LO), max(0, UO)]  (OVn rows have zero mean: max ≥ 0)
 *   imp[k] = maxQK·maxOV·p^0.1 ∈ p^0.1 · (the interval product; importanceBounds below)
 * Keys are then evaluated exactly (one d_head×V float32 product each, batched on onnxruntime, the
 * same numbers as the dense pass) in decreasing bound order until the (n + margin)-th best exact
 * importance exceeds the next bound: no key left can enter the report, so it is the dense
 * strategy's report.
 *
 * When the bounds cannot separate the keys (all keys nearly equal), the first batch shows it and
 * the head falls back to the dense pass: the worst case costs the dense pass plus the int8 passes.
 *
 * Cluster (k-means) bounds were tried first and dropped: on isotropic random weights they are ≈ 2×
 * loose (no key pruned), and on the demo models they cost what they saved.
 */
import { ReductionKernels } from "../core/factored";
import { HeadCircuits } from "../core/circuits";
import { HeadReport } from "../core/report";
import { keyReports, topK } from "../core/selection";
import { ExecutionProvider, Strategy } from "../protocol/engine";
import { circuitsFor, denseFromCircuits } from "./denseStrategy";
import { CANDIDATE_MARGIN, HeadAnalysis, HeadJob, headDetails, ImportanceIntervals, RunControl, streamPart } from "./headJob";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";

/**
 * What "auto" runs. The int8 bounds pay on the CPU provider for d_head ≥ 64 from V ≈ 20k up
 * (`npm run bench:pruned -- --sweep`: 0.97× at V = 12k, 1.2× at 24k and 32k, 1.4× at 48k); at
 * d_head 32 onnxruntime's int8 GEMM is no faster than float32 (1.0× at 48k), and on a GPU provider
 * the dense pass is the fast one.
 */
export function resolveStrategy(strategy: Strategy, ep: ExecutionProvider, vocab: number, dHead: number): "dense" | "pruned" {
  if (strategy !== "auto") return strategy;
  return ep === "cpu" && dHead >= 64 && vocab >= 20000 ? "pruned" : "dense";
}

export interface PruneStats {
  /** Keys whose importance was computed exactly. */
  evaluated: number;
  vocab: number;
  boundMs: number;
  exactMs: number;
  /** The bounds were too loose and the dense pass ran instead. */
  fellBack: boolean;
}

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
  const V = job.weights.config.d_vocab;
  const kernels = ortKernels(backend);
  ctl.check();
  const circuits = await circuitsFor(backend, job);
  ctl.check();
  const t0 = performance.now();
  const intervals = await importanceBounds(kernels, circuits, job.priorW, V, ctl);
  const bound = intervals.hi;
  ctl.progress?.(0.2);
  const t1 = performance.now();
  const order = Array.from(bound.keys()).sort((a, b) => bound[b] - bound[a] || a - b);
  const want = Math.min(V, job.sizes.nKeys + CANDIDATE_MARGIN);
  const imp = new Float64Array(V).fill(Number.NaN);
  // Exact maxima for batches of keys: over queries (QK's columns) and over outputs (OV's rows).
  const [qSession, oSession] = await Promise.all([circuits.qk.T.rowMaxEvaluator(kernels), circuits.ov.rowMaxEvaluator(kernels)]);
  const best: number[] = []; // exact importances of the current top `want`, ascending
  let evaluated = 0, released = false;
  try {
    while (evaluated < V) {
      ctl.check();
      const threshold = best.length === want ? best[0] : -Infinity;
      if (bound[order[evaluated]] < threshold) break; // no remaining key can reach the top
      const batch = order.slice(evaluated, evaluated + batchSize);
      const [maxQK, maxOV] = await Promise.all([qSession.run(batch), oSession.run(batch)]);
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
  for (let k = 0; k < V; k++) if (!Number.isNaN(imp[k])) intervals.lo[k] = intervals.hi[k] = imp[k];
  const candidates = topK(imp, want).filter((k) => !Number.isNaN(imp[k]));
  const keys = keyReports(circuits, candidates, job.priorW, job.sizes, job.label).slice(0, job.sizes.nKeys);
  const report: HeadReport = { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys };
  return {
    report, details: headDetails(report, circuits, job), circuits, importance: intervals,
    stats: { evaluated, vocab: V, boundMs: t1 - t0, exactMs: performance.now() - t1, fellBack: false },
  };
}

/** Every key's importance within [lo, hi]: interval products of its maxQK and maxOV bounds. */
async function importanceBounds(kernels: ReductionKernels, c: HeadCircuits, priorW: Float64Array, V: number, ctl: RunControl): Promise<ImportanceIntervals> {
  const qk = await c.qk.T.rowMaxBounds(kernels, streamPart(ctl, V, 0, 0)); // over queries, per key
  ctl.progress?.(0.1);
  const ov = await c.ov.rowMaxBounds(kernels, streamPart(ctl, V, 0.1, 0.1)); // over outputs, per source
  const lo = new Float64Array(V), hi = new Float64Array(V);
  for (let k = 0; k < V; k++) {
    const [a, b] = [qk.lo[k], qk.hi[k]];
    const [cLo, cHi] = [Math.max(0, ov.lo[k]), Math.max(0, ov.hi[k])]; // OVn rows have zero mean: max ≥ 0
    if (!(a === a && b === b && cLo === cLo && cHi === cHi)) throw new Error(`importance bound of key ${k} is NaN`); // never prune on a broken bound
    lo[k] = priorW[k] * (a >= 0 ? a * cLo : a * cHi);
    hi[k] = priorW[k] * (b >= 0 ? b * cHi : b * cLo);
  }
  return { lo, hi };
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
