/**
 * Head metrics, on the TransformerLens-processed weights Head Lens analyzes:
 * - OV copying score (Framework paper; TransformerLens Main_Demo): Σλ.real / Σ|λ| over the
 *   eigenvalues of the token-space OV circuit W_E W_V W_O W_U. Its nonzero spectrum is that of the
 *   d_head × d_head product W_O (W_U W_E) W_V (cyclic identity), so V×V is never formed.
 * - Composition scores, exactly TransformerLens's all_composition_scores(mode):
 *   ‖OV(l1,h1)·R(l2,h2)‖_F / (‖OV(l1,h1)‖_F ‖R(l2,h2)‖_F), R = W_Q W_Kᵀ (Q), W_K W_Qᵀ (K),
 *   W_V W_O (V); 0 unless l1 < l2. All through FactoredMatrix products and Gram matrices.
 * - Attention-pattern scores on fixed sequences (metricSequences): previous-token, induction,
 *   duplicate-token and attention to BOS (patternScores).
 */
import { qkCircuit, ovCircuit } from "./circuits";
import { Complex } from "./eig";
import { FactoredMatrix, MatMulFn } from "./factored";
import type { HeadRef } from "./heads";
import { ModelWeights } from "./weights";

/** Which circuit of the later head reads the earlier head's output: its queries, keys or values. */
export type CompositionType = "q" | "k" | "v";
/** composition[l1][h1][l2][h2], TransformerLens's all_composition_scores; 0 unless l1 < l2. */
export type CompositionScores = number[][][][];
export type CompositionSet = Record<CompositionType, CompositionScores>;

/** The attention-pattern scores (patternScores), on the metric sequences. */
export interface PatternScores {
  /** Mean attention to the previous token. */
  prevToken: number;
  /** Mean attention from the second copy of a token to the token after its first occurrence. */
  induction: number;
  /** Mean attention from the second copy of a token to its first occurrence. */
  duplicateToken: number;
  /** Mean attention to BOS. */
  bos: number;
}

/** Every trait of a head (what headTraits.ts explains and badges). */
export interface TraitScores extends PatternScores {
  /** OV copying score Σλ.real / Σ|λ| of W_E W_V W_O W_U (Framework paper). */
  copying: number;
}

/** One head's traits (definitions: README "Head metrics"; computed by the worker, cached by model identity). */
export interface HeadMetrics extends HeadRef, TraitScores {}

export interface ModelMetrics {
  model: string;
  heads: HeadMetrics[];
  composition: CompositionSet;
}

export function copyingScore(eigenvalues: Complex[]): number {
  let re = 0,
    abs = 0;
  for (const e of eigenvalues) {
    re += e.re;
    abs += Math.hypot(e.re, e.im);
  }
  return abs > 0 ? re / abs : 0;
}

/** W_U W_E (d_model × d_model): shared by every head's copying score. */
export function unembedEmbed(w: ModelWeights, mm: MatMulFn): Promise<Float32Array> | Float32Array {
  const { d_model: D, d_vocab: V } = w.config;
  return mm(w.W_U.data, w.W_E.data, D, V, D);
}

export async function copyingScores(w: ModelWeights, mm: MatMulFn): Promise<number[][]> {
  const { n_layers: L, n_heads: H, d_model: D } = w.config;
  const wue = await unembedEmbed(w, mm);
  const out: number[][] = [];
  for (let l = 0; l < L; l++) {
    out.push([]);
    for (let h = 0; h < H; h++) out[l].push(copyingScore((await ovCircuit(w, l, h).postmultiply(wue, D, mm)).eigenvalues()));
  }
  return out;
}

/** The right-hand circuit of each mode, for head (l, h). */
function reader(w: ModelWeights, l: number, h: number, mode: CompositionType): FactoredMatrix {
  if (mode === "q") return qkCircuit(w, l, h);
  if (mode === "k") return qkCircuit(w, l, h).T;
  return ovCircuit(w, l, h);
}

export async function compositionScores(w: ModelWeights, mode: CompositionType, mm: MatMulFn): Promise<CompositionScores> {
  const { n_layers: L, n_heads: H } = w.config;
  const ov = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => ovCircuit(w, l, h)));
  const right = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => reader(w, l, h, mode)));
  const out: CompositionScores = Array.from({ length: L }, () =>
    Array.from({ length: H }, () => Array.from({ length: L }, () => new Array<number>(H).fill(0))),
  );
  for (let l1 = 0; l1 < L; l1++)
    for (let h1 = 0; h1 < H; h1++) {
      const left = ov[l1][h1],
        leftNorm = left.frobeniusNorm();
      for (let l2 = l1 + 1; l2 < L; l2++)
        for (let h2 = 0; h2 < H; h2++) {
          const r = right[l2][h2];
          const denom = leftNorm * r.frobeniusNorm();
          out[l1][h1][l2][h2] = denom > 0 ? (await left.compose(r, mm)).frobeniusNorm() / denom : 0;
        }
    }
  return out;
}

/**
 * How the attention-pattern scores are measured (documented in the README): `count` sequences of
 * `repeat` tokens drawn from `runs` runs of `runLength` consecutive ids spread evenly over the
 * vocabulary. Runs, not single ids, so that a checkpoint's W_E rows for them are a few byte ranges
 * (the training timeline reads only those from the hub).
 */
export const METRIC_SEQUENCES = { count: 16, repeat: 50, seed: 20241127, runs: 16, runLength: 64 } as const;

/**
 * The id runs [start, end) the metric tokens are drawn from: `runs` runs of `runLength` ids, the
 * first at 0 and the last ending at the vocabulary's end, evenly spaced between; the whole
 * vocabulary when it is not larger than they are. BPE ids are in merge order, roughly frequency
 * rank, so the runs sample every frequency band as a uniform draw would, with 1 024 distinct ids.
 */
export function metricTokenRuns(vocab: number): [number, number][] {
  const { runs, runLength } = METRIC_SEQUENCES;
  if (vocab <= runs * runLength) return [[0, vocab]];
  return Array.from({ length: runs }, (_, k) => {
    const start = Math.round((k * (vocab - runLength)) / (runs - 1));
    return [start, start + runLength] as [number, number];
  });
}

/**
 * `count` sequences BOS + r + r, r = `repeat` distinct tokens drawn uniformly (a fixed mulberry32
 * stream) from the ids of metricTokenRuns but BOS — distinct, so that a token of the second copy
 * has one earlier occurrence, as in a uniform draw from a large vocabulary (with 1 024 ids and
 * replacement, 50 draws would repeat a token about once per sequence); shorter when the context
 * cannot hold 2·repeat + 1 tokens, with replacement when the ids are fewer than `repeat`.
 */
export function metricSequences(vocab: number, bos: number, nCtx: number): { tokens: number[][]; repeat: number } {
  const repeat = Math.max(1, Math.min(METRIC_SEQUENCES.repeat, Math.floor((nCtx - 1) / 2)));
  let a = METRIC_SEQUENCES.seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const ids = metricTokenRuns(vocab).flatMap(([s, e]) => Array.from({ length: e - s }, (_, i) => s + i).filter((id) => id !== bos));
  const draw = () => {
    if (ids.length < repeat) return Array.from({ length: repeat }, () => ids[Math.floor(rand() * ids.length)]);
    const pool = [...ids]; // a partial Fisher–Yates shuffle: the first `repeat` of a uniform permutation
    for (let i = 0; i < repeat; i++) {
      const j = i + Math.floor(rand() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, repeat);
  };
  const tokens = Array.from({ length: METRIC_SEQUENCES.count }, () => {
    const r = draw();
    return [bos, ...r, ...r];
  });
  return { tokens, repeat };
}

/**
 * From one layer's patterns [B, H, T, T] on the metric sequences (T = 2·repeat + 1), head h:
 * previous-token = mean A[i, i−1] over i ≥ 2 (position 1's previous token is BOS);
 * induction = mean A[i, i−repeat+1] over the second copy (the token after the first occurrence);
 * duplicate-token = mean A[i, i−repeat] over the second copy (the first occurrence itself);
 * BOS = mean A[i, 0] over i ≥ 1.
 */
export function patternScores(pattern: Float32Array, B: number, H: number, T: number, h: number, repeat: number): PatternScores {
  const mean = (rows: [number, number], col: (i: number) => number) => {
    let s = 0,
      n = 0;
    for (let b = 0; b < B; b++) {
      const base = (b * H + h) * T * T;
      for (let i = rows[0]; i < rows[1]; i++) {
        s += pattern[base + i * T + col(i)];
        n++;
      }
    }
    return n ? s / n : 0;
  };
  const second: [number, number] = [repeat + 1, 2 * repeat + 1];
  return {
    prevToken: mean([2, T], (i) => i - 1),
    induction: mean(second, (i) => i - repeat + 1),
    duplicateToken: mean(second, (i) => i - repeat),
    bos: mean([1, T], () => 0),
  };
}
