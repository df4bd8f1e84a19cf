/**
 * An independent float64 forward pass of an attention-only TransformerLens model, written from
 * TransformerLens's HookedTransformer / TransformerBlock: standard positions (added to the
 * residual stream) or shortformer (added to ln1's output for queries and keys only), LN / LNPre /
 * no normalization (eps 1e-5), scores / √d_head, causal mask, softmax. Returns everything the
 * attention feature shows, plus the residual stream's components for logit-attribution checks.
 */
import { ModelWeights } from "../../src/core/weights";

export interface ReferenceRun {
  /** [L][H][T][T] */
  patterns: number[][][][];
  /** [T][V] */
  logProbs: Float64Array[];
  /** [T][V] raw logits */
  logits: Float64Array[];
  /** [L][H][T] head results z·W_O[h] (TransformerLens's hook_result), each [D] */
  headResults: Float64Array[][][];
  /** [T][D]: token embedding, and positional embedding when it enters the residual stream (standard) */
  embed: Float64Array[];
  pos: Float64Array[] | null;
  /** [L][D] attention output biases (b_O), added at every position */
  biases: Float64Array[];
  /** [T] the final LayerNorm's scale (1 without normalization) */
  finalScale: number[];
}

export function referenceRun(w: ModelWeights, tokens: number[]): ReferenceRun {
  const { d_model: D, n_heads: H, d_head: E } = w.config;
  const T = tokens.length;
  const norm = w.config.normalization_type !== null;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const scaleOf = (x: Float64Array) => {
    let m = 0;
    for (const v of x) m += v;
    m /= D;
    let s = 0;
    for (const v of x) s += (v - m) ** 2;
    return { mean: m, scale: Math.sqrt(s / D + 1e-5) };
  };
  const ln = (x: Float64Array, g?: Float32Array, b?: Float32Array) => {
    if (!norm) return Float64Array.from(x);
    const { mean, scale } = scaleOf(x);
    return x.map((v, d) => ((v - mean) / scale) * (g ? g[d] : 1) + (b ? b[d] : 0));
  };
  const embed = tokens.map((t) => new Float64Array(D).map((_, d) => w.W_E.data[t * D + d]));
  const posRows = tokens.map((_, i) => new Float64Array(D).map((_, d) => w.W_pos.data[i * D + d]));
  let resid = embed.map((e, i) => (shortformer ? Float64Array.from(e) : e.map((v, d) => v + posRows[i][d])));
  const patterns: number[][][][] = [];
  const headResults: Float64Array[][][] = [];
  for (const blk of w.blocks) {
    const xn = resid.map((x) => ln(x, blk.ln1_w?.data, blk.ln1_b?.data));
    const qkIn = shortformer ? xn.map((x, i) => x.map((v, d) => v + posRows[i][d])) : xn;
    const proj = (inp: Float64Array[], W: Float32Array, b: Float32Array, h: number) =>
      inp.map((x) =>
        new Float64Array(E).map((_, e) => {
          let s = b[h * E + e];
          for (let d = 0; d < D; d++) s += x[d] * W[(h * D + d) * E + e];
          return s;
        }),
      );
    const out = resid.map((x) => x.map((v, d) => v + blk.b_O.data[d]));
    const layerPatterns: number[][][] = [];
    const layerResults: Float64Array[][] = [];
    for (let h = 0; h < H; h++) {
      const q = proj(qkIn, blk.W_Q.data, blk.b_Q.data, h),
        k = proj(qkIn, blk.W_K.data, blk.b_K.data, h),
        v = proj(xn, blk.W_V.data, blk.b_V.data, h);
      const pat: number[][] = [];
      const results: Float64Array[] = [];
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => q[i].reduce((s, qe, e) => s + qe * k[j][e], 0) / Math.sqrt(E));
        const mx = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        const row = Array.from({ length: T }, (_, j) => (j <= i ? ex[j] / z : 0));
        pat.push(row);
        const mix = new Float64Array(E);
        row.forEach((p, j) => p && v[j].forEach((ve, e) => (mix[e] += p * ve)));
        const r = new Float64Array(D);
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let e = 0; e < E; e++) s += mix[e] * blk.W_O.data[(h * E + e) * D + d];
          r[d] = s;
          out[i][d] += s;
        }
        results.push(r);
      }
      layerPatterns.push(pat);
      layerResults.push(results);
    }
    patterns.push(layerPatterns);
    headResults.push(layerResults);
    resid = out;
  }
  const { logits, logProbs } = referenceUnembed(
    w,
    resid.map((x) => ln(x, w.ln_final_w?.data, w.ln_final_b?.data)),
  );
  return {
    patterns,
    logProbs,
    logits,
    headResults,
    embed,
    pos: shortformer ? null : posRows,
    biases: w.blocks.map((b) => Float64Array.from(b.b_O.data)),
    finalScale: resid.map((x) => (norm ? scaleOf(x).scale : 1)),
  };
}

/** TransformerLens's logit_attrs for one residual component at position t and token `target`:
 * (c − mean(c)) / scale_t · (w_f ⊙ W_U[:, target]) (centring only when the model normalizes). */
export function componentAttribution(w: ModelWeights, run: ReferenceRun, c: Float64Array, t: number, target: number): number {
  const { d_model: D, d_vocab: V } = w.config;
  const mean = w.config.normalization_type === null ? 0 : c.reduce((a, b) => a + b, 0) / D;
  let s = 0;
  for (let d = 0; d < D; d++) s += (c[d] - mean) * w.W_U.data[d * V + target] * (w.ln_final_w ? w.ln_final_w.data[d] : 1);
  return s / run.finalScale[t];
}

/** Logits and log-probs of final normalized residual rows, in float64. */
export function referenceUnembed(w: ModelWeights, rows: Float64Array[]): { logits: Float64Array[]; logProbs: Float64Array[] } {
  const { d_model: D, d_vocab: V } = w.config;
  const logits = rows.map((xn) =>
    new Float64Array(V).map((_, t) => {
      let s = w.b_U.data[t];
      for (let d = 0; d < D; d++) s += xn[d] * w.W_U.data[d * V + t];
      return s;
    }),
  );
  const logProbs = logits.map((l) => {
    const mx = Math.max(...l);
    const lse = mx + Math.log(l.reduce((a, x) => a + Math.exp(x - mx), 0));
    return l.map((x) => x - lse);
  });
  return { logits, logProbs };
}
