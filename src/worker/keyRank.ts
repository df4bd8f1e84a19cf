/**
 * A token's exact rank among all V keys of a head (core/keyRank.ts says what it means), for the
 * token table: the keys whose interval holds the token's importance are re-evaluated, a float32
 * batch first (with its rounding bound), then float64 for what is still open.
 */
import { HeadCircuits } from "../core/circuits";
import { ReductionKernels } from "../core/factored";
import { classifyKeys, countAbove, ImportanceIntervals } from "../core/keyRank";

/** Past this many float64 re-evaluations the rank would be slow to make exact; never reached on real heads. */
const MAX_FLOAT64_KEYS = 20000;

export interface KeyFigures {
  importance: number;
  maxQK: number;
  maxOV: number;
}

/** maxQK, maxOV and importance of key k in float64, O(V·d_head). */
export function keyFigures(c: HeadCircuits, k: number, priorW: Float64Array): KeyFigures {
  let maxQK = -Infinity,
    maxOV = -Infinity;
  for (const x of c.qk.col(k)) if (x > maxQK) maxQK = x;
  for (const x of c.ov.row(k)) if (x > maxOV) maxOV = x;
  return { maxQK, maxOV, importance: maxQK * maxOV * priorW[k] };
}

/**
 * Bounds on |float32-evaluated importance − float64 importance| per key: a float32 dot product of
 * rank r is off by at most u = 2r·2⁻²³ times the norms' product. `tight` knows the evaluated
 * maxima; `loose` only the importance (Cauchy–Schwarz bounds the maxima by the norms). Exact key
 * ranks (here and in the editor hover) widen every float32-evaluated importance by it.
 */
export async function importanceRounding(c: HeadCircuits, priorW: Float64Array, k?: ReductionKernels) {
  const u = 2 * c.qk.rank * 2 ** -23;
  const [keyNorm, srcNorm, maxQuery, maxOut] = await Promise.all([
    c.qk.rightNorms(k),
    c.ov.leftNorms(k),
    c.qk.T.rightMaxNorm(k),
    c.ov.rightMaxNorm(k),
  ]);
  const tight = (k: number, maxQK: number, maxOV: number) => {
    const eQ = u * keyNorm[k] * maxQuery,
      eO = u * srcNorm[k] * maxOut;
    return priorW[k] * (eQ * (Math.abs(maxOV) + eO) + eO * Math.abs(maxQK)) * 1.01 + Number.MIN_VALUE;
  };
  const loose = (k: number) => tight(k, keyNorm[k] * maxQuery, srcNorm[k] * maxOut);
  return { tight, loose };
}

export async function exactKeyRank(
  c: HeadCircuits,
  intervals: ImportanceIntervals,
  t: number,
  priorW: Float64Array,
  kernels: ReductionKernels,
): Promise<{ rank: number; figures: KeyFigures }> {
  const err = await importanceRounding(c, priorW, kernels);
  const figures = keyFigures(c, t, priorW),
    imp = figures.importance;
  const { above, open } = classifyKeys(intervals, err.loose, t, imp);
  let rank = above;
  // Float32 batches (the dense pass's numbers) shrink the open set; float64 settles what is left.
  const settle: number[] = [];
  if (open.length > 64 && kernels.rowMaxSession) {
    const [qs, os] = await Promise.all([
      c.qk.T.rowMaxEvaluator(kernels, { prepack: open.length > 4096 }),
      c.ov.rowMaxEvaluator(kernels, { prepack: open.length > 4096 }),
    ]);
    try {
      for (let i = 0; i < open.length; i += 1024) {
        const batch = open.slice(i, i + 1024);
        const [mq, mo] = await Promise.all([qs.run(batch), os.run(batch)]);
        batch.forEach((k, j) => {
          // The float32 product itself is rounded once more: a relative 2⁻²³ on top of the bound.
          const v = mq[j] * mo[j] * priorW[k],
            e = err.tight(k, mq[j], mo[j]) + Math.abs(v) * 2 ** -22;
          if (v - e > imp) rank++;
          else if (v + e >= imp) settle.push(k);
        });
      }
    } finally {
      await Promise.all([qs.release(), os.release()]);
    }
  } else settle.push(...open);
  if (settle.length > MAX_FLOAT64_KEYS)
    throw new Error(`${settle.length} keys tie with token ${t} within rounding; the rank cannot be made exact`);
  rank += countAbove(settle, (k) => keyFigures(c, k, priorW).importance, t, imp);
  return { rank, figures };
}
