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

export async function compositionScores(w: ModelWeights, mode: CompositionType, mm: MatMulFn): Promise<CompositionScores> {
  return (await compositionSet(w, mm, [mode]))[mode];
}

/** The Q, K and V composition scores (or those of `modes`), the circuits shared. */
export async function compositionSet(w: ModelWeights, mm: MatMulFn, modes: CompositionType[] = ["q", "k", "v"]): Promise<CompositionSet> {
  const { n_layers: L, n_heads: H } = w.config;
  const ov = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => ovCircuit(w, l, h)));
  const qk = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => qkCircuit(w, l, h)));
  // The later head's circuit each mode reads through: its queries (W_Q W_Kᵀ), keys (W_K W_Qᵀ) or values (W_V W_O).
  const readers: Record<CompositionType, (l: number, h: number) => FactoredMatrix> = {
    q: (l, h) => qk[l][h],
    k: (l, h) => qk[l][h].T,
    v: (l, h) => ov[l][h],
  };
  const set = {} as CompositionSet;
  for (const mode of modes) {
    const right = Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => readers[mode](l, h)));
    set[mode] = await layerPairScores(ov, right, mm);
  }
  return set;
}

/**
 * Every pair at once, per pair of layers: with OV(l1,h1) = L1·R1ᵀ and R(l2,h2) = L2·R2ᵀ, the
 * product's ‖L1 (R1ᵀL2) R2ᵀ‖²_F = Σ (G_L1 M) ⊙ (M G_R2) for M = R1ᵀL2 (rank × rank) and the factors'
 * Gram matrices G (‖A‖²_F = Σ G_L ⊙ G_R alike). A layer's Gram matrices are the diagonal blocks of one
 * product of its stacked factors, every M of two layers is one product, and each side's G·M one per
 * head: a few products per layer pair instead of several d_model-sized ones per pair of heads.
 */
async function layerPairScores(ov: FactoredMatrix[][], right: FactoredMatrix[][], mm: MatMulFn): Promise<CompositionScores> {
  const L = ov.length,
    H = ov[0].length;
  const out: CompositionScores = Array.from({ length: L }, () =>
    Array.from({ length: H }, () => Array.from({ length: L }, () => new Array<number>(H).fill(0))),
  );
  const grams = async (ms: FactoredMatrix[], side: "left" | "right") => {
    const n = side === "left" ? ms[0].rows : ms[0].cols,
      r = ms[0].rank;
    const f = ms.map((m) => m[side]);
    const all = await mm(stackTransposed(f, n, r), stackColumns(f, n, r), H * r, n, H * r);
    return ms.map((_, h) => block(all, H * r, h * r, h * r, r, r));
  };
  const norms = async (ms: FactoredMatrix[]) => {
    const [gl, gr] = [await grams(ms, "left"), await grams(ms, "right")];
    return gl.map((g, h) =>
      Math.sqrt(
        Math.max(
          0,
          g.reduce((acc, x, i) => acc + x * gr[h][i], 0),
        ),
      ),
    );
  };
  for (let l1 = 0; l1 < L - 1; l1++) {
    const [r1, d] = [ov[l1][0].rank, ov[l1][0].cols];
    const gLeft = await grams(ov[l1], "left"),
      ovNorm = await norms(ov[l1]);
    const stackedRight = stackTransposed(
      ov[l1].map((m) => m.right),
      d,
      r1,
    ); // [H·r1, d]
    for (let l2 = l1 + 1; l2 < L; l2++) {
      const r2 = right[l2][0].rank,
        c = H * r2;
      const gRight = await grams(right[l2], "right"),
        rNorm = await norms(right[l2]);
      const m = await mm(
        stackedRight,
        stackColumns(
          right[l2].map((x) => x.left),
          d,
          r2,
        ),
        H * r1,
        d,
        c,
      ); // [H·r1, H·r2]
      const gm = await Promise.all(gLeft.map((g, h1) => mm(g, block(m, c, h1 * r1, 0, r1, c), r1, r1, c))); // [r1, H·r2] each
      const mg = await Promise.all(gRight.map((g, h2) => mm(block(m, c, 0, h2 * r2, H * r1, r2), g, H * r1, r2, r2))); // [H·r1, r2] each
      for (let h1 = 0; h1 < H; h1++)
        for (let h2 = 0; h2 < H; h2++) {
          let sq = 0;
          for (let i = 0; i < r1; i++) for (let j = 0; j < r2; j++) sq += gm[h1][i * c + h2 * r2 + j] * mg[h2][(h1 * r1 + i) * r2 + j];
          const denom = ovNorm[h1] * rNorm[h2];
          out[l1][h1][l2][h2] = denom > 0 ? Math.sqrt(Math.max(0, sq)) / denom : 0;
        }
    }
  }
  return out;
}

/** Rows [r0, r0 + nr) × columns [c0, c0 + nc) of a row-major matrix with `cols` columns. */
function block(a: Float32Array, cols: number, r0: number, c0: number, nr: number, nc: number): Float32Array {
  const out = new Float32Array(nr * nc);
  for (let i = 0; i < nr; i++) out.set(a.subarray((r0 + i) * cols + c0, (r0 + i) * cols + c0 + nc), i * nc);
  return out;
}

/** Factors [n, r] each, side by side transposed: [count·r, n]. */
function stackTransposed(factors: Float32Array[], n: number, r: number): Float32Array {
  const out = new Float32Array(factors.length * r * n);
  factors.forEach((f, h) => {
    for (let k = 0; k < n; k++) for (let i = 0; i < r; i++) out[(h * r + i) * n + k] = f[k * r + i];
  });
  return out;
}

/** Factors [n, r] each, side by side: [n, count·r]. */
function stackColumns(factors: Float32Array[], n: number, r: number): Float32Array {
  const c = factors.length * r,
    out = new Float32Array(n * c);
  factors.forEach((f, h) => {
    for (let k = 0; k < n; k++) out.set(f.subarray(k * r, (k + 1) * r), k * c + h * r);
  });
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
