/**
 * Exact key selection without the float32 V² pass: a cascade of rigorous bounds on every key's
 * importance (KeyIntervals), each stage run only on the keys the previous ones left alive, then
 * exact float32 evaluation (one d_head × V product per key and circuit, the dense pass's numbers)
 * in decreasing upper-bound order until the (n + margin)-th best exact importance beats every
 * bound left: no unevaluated key can enter the report, so it is the dense strategy's report.
 *
 * 1. Cheap bounds (FactoredMatrix.rowMaxNormSplitBounds: balanced SVD coordinates, the longest
 *    points exactly, Cauchy–Schwarz for the rest), O(V·d_head·points) per circuit. The n-th best
 *    lower bound is already a threshold. On trained-like weights this leaves ≈ 0.02–1 % alive.
 * 2. If many keys are still alive: one exact batch of the most promising keys raises the
 *    threshold, then the int8 pass (int8Bounds.ts) of one circuit over the alive keys only, the
 *    circuit whose exact max would prune most first, then the other circuit's over what is left.
 *    Isotropic random weights need both full passes: no cheap bound prunes there.
 * 3. Exact evaluation. When even the int8 bounds leave > 40 % alive (all keys nearly equal), the
 *    dense pass runs instead.
 *
 * Cluster (k-means) bounds were tried first and dropped: on isotropic random weights they are ≈ 2×
 * loose (no key pruned), and on the demo models they cost what they saved.
 */
import { FactoredMatrix } from "../core/factored";
import { HeadReport } from "../core/report";
import { keyReports, topK } from "../core/selection";
import { keepLargest } from "../core/topK";
import { ExecutionProvider, Strategy } from "../protocol/engine";
import { circuitsFor, denseFromCircuits, reportRows } from "./denseStrategy";
import { CANDIDATE_MARGIN, HeadAnalysis, HeadJob, headDetails, RunControl, streamPart } from "./headJob";
import { KeyIntervals } from "./keyIntervals";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";

/**
 * What "auto" runs. On the CPU provider the cascade wins at every measured shape from V ≈ 8k up
 * (`npm run bench:pruned -- --heads 1 --kinds "" --sweep`, last run: trained-like weights 3.1–20×,
 * the bundled demo models 3.2×, isotropic random weights 1.24–2.2×); below that both take < 0.1 s
 * per head and tiny isotropic models gain nothing (0.97× at V = 4096, d_head 32). A GPU provider's
 * dense pass is the fast one until measured otherwise.
 */
export function resolveStrategy(strategy: Strategy, ep: ExecutionProvider, vocab: number): "dense" | "pruned" {
  if (strategy !== "auto") return strategy;
  return ep === "cpu" && vocab >= 8192 ? "pruned" : "dense";
}

export interface PruneStats {
  /** Keys whose importance was computed exactly. */
  evaluated: number;
  vocab: number;
  /** Keys still alive after the cheap bounds (and the first exact batch, when the int8 stage runs). */
  aliveAfterCheap: number;
  /** Keys whose cheap bound was refined with more points before an int8 pass. */
  refined: { circuit: "qk" | "ov"; rows: number }[];
  /** Keys each circuit's int8 pass covered, in the order they ran (empty: no int8 pass). */
  int8Rows: { circuit: "qk" | "ov"; rows: number }[];
  /** Milliseconds per stage: factors, cheap bounds, refinement, int8 passes, exact evaluation, report. */
  ms: { circuits: number; cheap: number; refine: number; int8: number; exact: number; report: number };
  /** The bounds were too loose and the dense pass ran instead. */
  fellBack: boolean;
}

export const BATCH = 128;
/** Fall back to the dense pass when more than this share of keys could still enter the report. */
export const FALLBACK_SHARE = 0.4;
/** Longest points each cheap bound evaluates exactly (bench/prunedHead.ts --points to compare). */
export const CHEAP_POINTS = 256;
/**
 * Share of the vocabulary (and fewest keys) up to which exact evaluation of the alive keys (2·V·d_head
 * float32 MACs each) is cheaper than an int8 pass over them (≈ 1/2.3 of that) plus its fixed cost
 * (quantizing V points, one session): about break-even at 2 % of 48k keys on this machine.
 */
export const EXACT_SHARE = 0.02,
  EXACT_MIN = 256;

/** Exact points of the refined cheap bound, the sample it is tried on, the share of the sample it must prune. */
const REFINE_POINTS = 4096,
  REFINE_SAMPLE = 512,
  REFINE_MIN_SHARE = 0.25;

export interface PruneTuning {
  refinePoints?: number;
  batch?: number;
  /** Share of keys still "alive" after the bounds above which the dense pass takes over. */
  fallbackShare?: number;
  points?: number;
  exactLimit?: number;
}

export async function analyzeHeadPruned(
  backend: OrtBackend,
  job: HeadJob,
  ctl: RunControl,
  tuning: PruneTuning = {},
): Promise<HeadAnalysis & { stats: PruneStats }> {
  const batchSize = tuning.batch ?? BATCH,
    fallbackShare = tuning.fallbackShare ?? FALLBACK_SHARE;
  const points = tuning.points ?? CHEAP_POINTS,
    refinePoints = tuning.refinePoints ?? REFINE_POINTS;
  const V = job.weights.config.d_vocab;
  const exactLimit = tuning.exactLimit ?? Math.max(EXACT_MIN, EXACT_SHARE * V);
  const kernels = ortKernels(backend),
    whole = streamPart(ctl, V, 0, 0);
  const stats: PruneStats = {
    evaluated: 0,
    vocab: V,
    aliveAfterCheap: 0,
    refined: [],
    int8Rows: [],
    ms: { circuits: 0, cheap: 0, refine: 0, int8: 0, exact: 0, report: 0 },
    fellBack: false,
  };
  const timed = async <T>(stage: keyof PruneStats["ms"], f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      stats.ms[stage] += performance.now() - t;
    }
  };
  ctl.check();
  const circuits = await timed("circuits", () => circuitsFor(backend, job));
  const columns = circuits.qk.T; // rows = keys, columns = queries
  ctl.check();
  const keys = await timed(
    "cheap",
    async () =>
      new KeyIntervals(
        await columns.rowMaxNormSplitBounds(kernels, whole, points),
        await circuits.ov.rowMaxNormSplitBounds(kernels, whole, points),
        job.priorW,
      ),
  );
  ctl.progress?.(0.05);
  const want = Math.min(V, job.sizes.nKeys + CANDIDATE_MARGIN);
  const best: number[] = []; // exact importances of the current top `want`, ascending
  let floor = keys.nthBestLowerBound(want); // already a threshold: `want` keys are at least this important
  const threshold = () => Math.max(best.length === want ? best[0] : -Infinity, floor);
  const [qSession, oSession] = await Promise.all([columns.rowMaxEvaluator(kernels), circuits.ov.rowMaxEvaluator(kernels)]);
  const evaluate = (batch: number[]) =>
    timed("exact", async () => {
      const rows = batch.length === 1 ? [batch[0], batch[0]] : batch; // one row could take a GEMV path that rounds differently
      const [maxQK, maxOV] = await Promise.all([qSession.run(rows), oSession.run(rows)]);
      batch.forEach((k, i) => {
        const imp = maxQK[i] * maxOV[i] * job.priorW[k];
        keys.setExact(k, imp);
        keepLargest(best, imp, want);
      });
      stats.evaluated += batch.length;
    });
  const byBound = (ks: number[]) => ks.sort((a, b) => keys.hi[b] - keys.hi[a] || a - b);
  /**
   * The cheap bound again with many more exact points, for the alive keys of one circuit: tried on
   * a sample first and run on the rest only when it prunes (QK of isotropic weights: the BOS shift
   * makes the longest queries decisive; OV there: never). Costs ≈ 1/5 of an int8 pass per key.
   */
  const refine = (circuit: "qk" | "ov", m: FactoredMatrix, alive: number[]) =>
    timed("refine", async () => {
      if (refinePoints <= points) return alive;
      const step = Math.max(1, Math.floor(alive.length / REFINE_SAMPLE)),
        sample = alive.filter((_, i) => i % step === 0);
      keys.tighten(circuit, sample, await m.rowMaxNormSplitBounds(kernels, whole, refinePoints, sample));
      if (sample.filter((k) => keys.hi[k] < threshold()).length >= REFINE_MIN_SHARE * sample.length) {
        const rest = alive.filter((_, i) => i % step !== 0);
        keys.tighten(circuit, rest, await m.rowMaxNormSplitBounds(kernels, whole, refinePoints, rest));
        stats.refined.push({ circuit, rows: alive.length });
      }
      return keys.alive(threshold());
    });
  let released = false;
  try {
    let alive = keys.alive(threshold());
    if (alive.length > exactLimit) {
      await evaluate(byBound(alive).slice(0, batchSize)); // the most promising keys set a real threshold
      alive = keys.alive(threshold());
    }
    stats.aliveAfterCheap = alive.length;
    const order: ("qk" | "ov")[] =
      keys.aliveIfExact("qk", alive, threshold()) <= keys.aliveIfExact("ov", alive, threshold()) ? ["qk", "ov"] : ["ov", "qk"];
    for (const circuit of order) {
      if (alive.length <= exactLimit) break;
      ctl.check();
      const m = circuit === "qk" ? columns : circuits.ov;
      alive = await refine(circuit, m, alive);
      if (alive.length <= exactLimit) break;
      const rows = alive;
      keys.tighten(circuit, rows, await timed("int8", () => m.rowMaxBounds(kernels, streamPart(ctl, V, 0.05, 0.05), rows)));
      stats.int8Rows.push({ circuit, rows: rows.length });
      floor = Math.max(floor, keys.nthBestLowerBound(want));
      alive = keys.alive(threshold());
      if (alive.length > exactLimit) {
        // The keys with the best lower bounds are the likeliest leaders: a higher threshold for the next pass.
        await evaluate(alive.sort((a, b) => keys.lo[b] - keys.lo[a] || a - b).slice(0, batchSize));
        alive = keys.alive(threshold());
      }
      ctl.progress?.(stats.int8Rows.length === 1 ? 0.45 : 0.8);
    }
    if (alive.length > fallbackShare * V) {
      await Promise.all([qSession.release(), oSession.release()]);
      released = true;
      const dense = await timed("exact", () => denseFromCircuits(backend, circuits, job, ctl));
      return { ...dense, stats: { ...stats, evaluated: V, fellBack: true } };
    }
    // Exact evaluation in decreasing upper-bound order until no key left can reach the top.
    byBound(alive);
    for (let i = 0; i < alive.length;) {
      ctl.check();
      if (keys.hi[alive[i]] < threshold()) break;
      const batch: number[] = [];
      for (; i < alive.length && batch.length < batchSize; i++) if (Number.isNaN(keys.exact[alive[i]])) batch.push(alive[i]);
      await evaluate(batch);
      ctl.progress?.(0.8 + 0.2 * Math.min(1, i / alive.length));
    }
    return await timed("report", async () => {
      const candidates = topK(keys.exact, want).filter((k) => !Number.isNaN(keys.exact[k]));
      const rows = await reportRows(backend, circuits, candidates);
      const reportKeys = keyReports(circuits, candidates, job.priorW, job.sizes, job.label, rows).slice(0, job.sizes.nKeys);
      const report: HeadReport = { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys: reportKeys };
      return { report, details: headDetails(report, circuits, job, rows), circuits, importance: keys.toImportance(), stats };
    });
  } finally {
    if (!released) await Promise.all([qSession.release(), oSession.release()]);
  }
}
