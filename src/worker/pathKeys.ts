/**
 * A composition path's candidate keys without a full V² pass over its OV side when cheap bounds
 * can prune it. A q path's OV side is the head's own direct OV circuit, a v path's the composed one;
 * either way every key's other factor (its QK max, exact from the diagonal pass, or 1) is known,
 * so importance = maxQK·maxOV·p^0.1 is bracketed by the OV circuit's cheap bounds alone. Keys are
 * then evaluated exactly (the dense pass's float32 maxima) in decreasing upper-bound order until
 * no key left can enter the top: the candidates are the dense pass's. Where the cheap bounds leave
 * many keys (isotropic random weights), an int8 pass over them tightens the bounds first (as in
 * prunedStrategy.ts); where even that leaves too many, one float32 pass over the OV side runs.
 */
import { FactoredMatrix, StreamControl } from "../core/factored";
import { importance, topK } from "../core/selection";
import { keepLargest } from "../core/topK";
import { KeyIntervals } from "./keyIntervals";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";
// The pruned head's stages and thresholds, applied to the OV side alone (FALLBACK_SHARE: one float32 pass is cheaper).
import { BATCH, CHEAP_POINTS, EXACT_MIN, EXACT_SHARE, FALLBACK_SHARE } from "./prunedStrategy";

export interface PathKeys {
  candidates: number[];
  /** Keys whose OV max was computed exactly (V: the full pass ran). */
  evaluated: number;
  /** The last stage that ran: cheap bounds, an int8 pass over the keys they left, or the full float32 pass. */
  stage: "cheap" | "int8" | "full";
}

export async function pathCandidates(
  backend: OrtBackend,
  ov: FactoredMatrix,
  maxQK: Float32Array | undefined,
  priorW: Float64Array,
  want: number,
  ctl: StreamControl,
): Promise<PathKeys> {
  const kernels = ortKernels(backend),
    V = ov.rows,
    qk = Float64Array.from(maxQK ?? new Float32Array(V).fill(1));
  const whole = { check: ctl.check, blockBytes: ctl.blockBytes };
  const fullPass = async (): Promise<PathKeys> => {
    const maxOV = await ov.rowMax(kernels, ctl);
    return { candidates: topK(importance(qk, maxOV, priorW), want), evaluated: V, stage: "full" };
  };
  if (!qk.every(Number.isFinite)) return fullPass(); // no interval arithmetic on a non-finite QK max: rank as the dense pass does
  const keys = new KeyIntervals({ lo: qk, hi: qk }, await ov.rowMaxNormSplitBounds(kernels, whole, CHEAP_POINTS), priorW);
  const best: number[] = []; // exact importances of the current top `want`, ascending
  let floor = keys.nthBestLowerBound(want),
    evaluated = 0,
    stage: PathKeys["stage"] = "cheap";
  const threshold = () => Math.max(best.length === want ? best[0] : -Infinity, floor);
  const byBound = (ks: number[]) => ks.sort((a, b) => keys.hi[b] - keys.hi[a] || a - b);
  const session = await ov.rowMaxEvaluator(kernels);
  const evaluate = async (batch: number[]) => {
    const rows = batch.length === 1 ? [batch[0], batch[0]] : batch; // one row could take a GEMV path that rounds differently
    const maxOV = await session.run(rows);
    batch.forEach((k, b) => {
      const imp = qk[k] * maxOV[b] * priorW[k]; // importance()'s product, in its order
      keys.setExact(k, imp);
      keepLargest(best, imp, want);
    });
    evaluated += batch.length;
  };
  try {
    let alive = keys.alive(threshold());
    if (alive.length > Math.max(EXACT_MIN, EXACT_SHARE * V)) {
      // As the pruned head's second stage: the likeliest keys set a real threshold, then int8 bounds on what is left.
      await evaluate(byBound(alive).slice(0, BATCH));
      alive = keys.alive(threshold());
      ctl.check();
      keys.tighten("ov", alive, await ov.rowMaxBounds(kernels, whole, alive)); // the bulk of the work, when it runs
      stage = "int8";
      ctl.progress?.(0.8 * V);
      floor = Math.max(floor, keys.nthBestLowerBound(want));
      alive = keys.alive(threshold());
    }
    if (alive.length > FALLBACK_SHARE * V) return await fullPass();
    byBound(alive);
    for (let i = 0; i < alive.length && keys.hi[alive[i]] >= threshold();) {
      ctl.check();
      const batch: number[] = [];
      for (; i < alive.length && batch.length < BATCH; i++) if (Number.isNaN(keys.exact[alive[i]])) batch.push(alive[i]);
      await evaluate(batch);
      ctl.progress?.(V * (stage === "int8" ? 0.8 + (0.2 * i) / alive.length : i / alive.length));
    }
  } finally {
    await session.release();
  }
  return { candidates: topK(keys.exact, want).filter((k) => !Number.isNaN(keys.exact[k])), evaluated, stage };
}
