/**
 * An independent float64 forward pass with interventions, from the model's raw weights, written from
 * the definitions (README, Definitions): a head's **result** is TransformerLens's on processed
 * weights — Σ_j p_tj (x_j W_V) W_O with b_V (and, where fold_ln applies, ln1's bias through W_V)
 * counted in the bias, which no ablation touches. Zero / mean ablation of results, path ablations into
 * one later head's q, k or v input (that input's residual minus the result plus the replacement, LN
 * recomputed), and patching a head's result from another run at chosen positions.
 */
import { HeadAblation } from "../../src/core/ablations";
import { ModelWeights } from "../../src/core/weights";
import { referenceUnembed } from "./attentionReference";

export interface Intervention {
  ablations?: HeadAblation[];
  /** Head (layer, head)'s result taken from `from` (another run's results) at the positions where `at` is true. */
  patch?: { layer: number; head: number; from: Float64Array[][][]; at: (t: number) => boolean };
}

export interface InterventionRun {
  /** [L][H][T][T] */
  patterns: number[][][][];
  /** [L][H][T] results (after the interventions), each [D] */
  results: Float64Array[][][];
  /** [T][V] log-probs and logits */
  logProbs: Float64Array[];
  logits: Float64Array[];
}

export function interventionRun(w: ModelWeights, tokens: number[], iv: Intervention = {}): InterventionRun {
  const { d_model: D, n_heads: H, d_head: E } = w.config;
  const T = tokens.length;
  const norm = w.config.normalization_type !== null;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const folds = norm && !shortformer;
  const ablations = iv.ablations ?? [];
  const ln = (x: Float64Array, g?: Float32Array, b?: Float32Array) => {
    if (!norm) return Float64Array.from(x);
    const m = x.reduce((a, v) => a + v, 0) / D;
    const s = Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / D + 1e-5);
    return x.map((v, d) => ((v - m) / s) * (g ? g[d] : 1) + (b ? b[d] : 0));
  };
  const vecMat = (x: Float64Array, W: Float32Array, h: number, rows: number, cols: number, bias?: Float32Array) =>
    new Float64Array(cols).map((_, c) => {
      let s = bias ? bias[h * cols + c] : 0;
      for (let r = 0; r < rows; r++) s += x[r] * W[(h * rows + r) * cols + c];
      return s;
    });
  const pos = (t: number) => new Float64Array(D).map((_, d) => w.W_pos.data[t * D + d]);
  let resid = tokens.map((tok, t) =>
    new Float64Array(D).map((_, d) => w.W_E.data[tok * D + d] + (shortformer ? 0 : w.W_pos.data[t * D + d])),
  );
  /** Changes bound for one later head's input, by "layer:head:input": [T] of [D]. */
  const deltas = new Map<string, Float64Array[]>();
  const patterns: number[][][][] = [],
    results: Float64Array[][][] = [];
  w.blocks.forEach((blk, l) => {
    const input = (h: number, which: "q" | "k" | "v") => {
      const d = deltas.get(`${l}:${h}:${which}`);
      return resid.map((x, t) => {
        const y = ln(d ? x.map((v, i) => v + d[t][i]) : x, blk.ln1_w?.data, blk.ln1_b?.data);
        return which !== "v" && shortformer ? y.map((v, i) => v + pos(t)[i]) : y;
      });
    };
    const layerPatterns: number[][][] = [],
      layerResults: Float64Array[][] = [];
    const out = resid.map((x) => x.map((v, d) => v + blk.b_O.data[d]));
    for (let h = 0; h < H; h++) {
      const q = input(h, "q").map((x) => vecMat(x, blk.W_Q.data, h, D, E, blk.b_Q.data));
      const k = input(h, "k").map((x) => vecMat(x, blk.W_K.data, h, D, E, blk.b_K.data));
      // The value without the bias parts processed weights move into b_O.
      const vIn = input(h, "v");
      const v = vIn.map((x) => vecMat(folds && blk.ln1_b ? x.map((u, i) => u - blk.ln1_b!.data[i]) : x, blk.W_V.data, h, D, E));
      const pat = Array.from({ length: T }, (_, i) => {
        const s = Array.from({ length: i + 1 }, (_, j) => q[i].reduce((a, qe, e) => a + qe * k[j][e], 0) / Math.sqrt(E));
        const mx = Math.max(...s);
        const ex = s.map((x) => Math.exp(x - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        return Array.from({ length: T }, (_, j) => (j <= i ? ex[j] / z : 0));
      });
      let res = pat.map((row) => {
        const mix = new Float64Array(E);
        row.forEach((p, j) => p && v[j].forEach((ve, e) => (mix[e] += p * ve)));
        return vecMat(mix, blk.W_O.data, h, E, D);
      });
      const direct = ablations.find((a) => a.layer === l && a.head === h && !a.into);
      const mean = () => new Float64Array(D).map((_, d) => res.reduce((a, r) => a + r[d], 0) / T);
      if (direct) {
        const m = direct.kind === "mean" ? mean() : new Float64Array(D);
        res = res.map(() => Float64Array.from(m));
      }
      if (iv.patch && iv.patch.layer === l && iv.patch.head === h) {
        const { from, at } = iv.patch;
        res = res.map((r, t) => (at(t) ? Float64Array.from(from[l][h][t]) : r));
      }
      for (const a of ablations.filter((x) => x.layer === l && x.head === h && x.into)) {
        const m = a.kind === "mean" ? mean() : new Float64Array(D);
        const key = `${a.into!.layer}:${a.into!.head}:${a.into!.input}`;
        const d = deltas.get(key) ?? resid.map(() => new Float64Array(D));
        res.forEach((r, t) => r.forEach((rv, i) => (d[t][i] += m[i] - rv)));
        deltas.set(key, d);
      }
      // The bias parts: b_V (and ln1's bias where folded) through W_V, W_O — the same at every position.
      const bv = new Float64Array(E).map((_, e) => blk.b_V.data[h * E + e]);
      if (folds && blk.ln1_b) vecMat(Float64Array.from(blk.ln1_b.data), blk.W_V.data, h, D, E).forEach((x, e) => (bv[e] += x));
      const constant = vecMat(bv, blk.W_O.data, h, E, D);
      out.forEach((o, t) => o.forEach((_, d) => (o[d] += res[t][d] + constant[d])));
      layerPatterns.push(pat);
      layerResults.push(res);
    }
    patterns.push(layerPatterns);
    results.push(layerResults);
    resid = out;
  });
  const { logits, logProbs } = referenceUnembed(
    w,
    resid.map((x) => ln(x, w.ln_final_w?.data, w.ln_final_b?.data)),
  );
  return { patterns, results, logProbs, logits };
}
