/**
 * A naive float64 forward pass of an attention-only TransformerLens model (standard positional
 * embedding). Normalization follows the weights present: LN when w/b exist, LNPre when the config
 * says LN/LNPre but they were folded away, none for null. Used to check that weight processing
 * leaves the model's function unchanged.
 */
import { ModelWeights } from "../../src/core/weights";

export function logProbs(w: ModelWeights, tokens: number[]): Float64Array[] {
  return forward64(w, tokens).logProbs;
}

/** Log-probs [T][V] and each layer's attention patterns [H][T][T] (row = query position). */
export function forward64(w: ModelWeights, tokens: number[]): { logProbs: Float64Array[]; patterns: Float64Array[][][] } {
  const { d_model: D, n_heads: H, d_head: E, d_vocab: V } = w.config;
  const T = tokens.length;
  const norm = w.config.normalization_type !== null;
  const ln = (x: Float64Array, g?: Float32Array, b?: Float32Array) => {
    if (!norm) return Float64Array.from(x);
    let m = 0;
    for (const v of x) m += v;
    m /= D;
    let s = 0;
    for (const v of x) s += (v - m) ** 2;
    const r = 1 / Math.sqrt(s / D + 1e-5);
    return x.map((v, d) => (v - m) * r * (g ? g[d] : 1) + (b ? b[d] : 0));
  };
  let resid = tokens.map((t, i) => new Float64Array(D).map((_, d) => w.W_E.data[t * D + d] + w.W_pos.data[i * D + d]));
  const patterns: Float64Array[][][] = [];
  for (const blk of w.blocks) {
    const layer: Float64Array[][] = [];
    patterns.push(layer);
    const xn = resid.map((x) => ln(x, blk.ln1_w?.data, blk.ln1_b?.data));
    const proj = (W: Float32Array, b: Float32Array, h: number) => xn.map((x) => new Float64Array(E).map((_, e) => {
      let s = b[h * E + e];
      for (let d = 0; d < D; d++) s += x[d] * W[(h * D + d) * E + e];
      return s;
    }));
    const out = resid.map((x) => Float64Array.from(x).map((v, d) => v + blk.b_O.data[d]));
    for (let h = 0; h < H; h++) {
      const q = proj(blk.W_Q.data, blk.b_Q.data, h), k = proj(blk.W_K.data, blk.b_K.data, h), v = proj(blk.W_V.data, blk.b_V.data, h);
      const rows: Float64Array[] = [];
      layer.push(rows);
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: i + 1 }, (_, j) => q[i].reduce((s, qe, e) => s + qe * k[j][e], 0) / Math.sqrt(E));
        const mx = Math.max(...scores);
        const ex = scores.map((s) => Math.exp(s - mx));
        const z = ex.reduce((a, b) => a + b, 0);
        rows.push(new Float64Array(T).map((_, j) => (j <= i ? ex[j] / z : 0)));
        const mix = new Float64Array(E);
        ex.forEach((p, j) => v[j].forEach((ve, e) => (mix[e] += (p / z) * ve)));
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let e = 0; e < E; e++) s += mix[e] * blk.W_O.data[(h * E + e) * D + d];
          out[i][d] += s;
        }
      }
    }
    resid = out;
  }
  const logProbs = resid.map((x) => {
    const xn = ln(x, w.ln_final_w?.data, w.ln_final_b?.data);
    const logits = new Float64Array(V).map((_, t) => {
      let s = w.b_U.data[t];
      for (let d = 0; d < D; d++) s += xn[d] * w.W_U.data[d * V + t];
      return s;
    });
    const mx = Math.max(...logits);
    const lse = mx + Math.log(logits.reduce((a, l) => a + Math.exp(l - mx), 0));
    return logits.map((l) => l - lse);
  });
  return { logProbs, patterns };
}
