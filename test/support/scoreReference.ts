/**
 * An independent float64 "why" for one head, written from the definitions (README, Definitions)
 * on the model's raw weights, dense in d_model space: every part of the residual stream is formed
 * as a vector, put through ln1 (centred, divided by the run's scale, times ln1's weight) and W_Q /
 * W_K, and the terms are the dot products. TransformerLens semantics of processed weights, stated
 * here from raw ones: b_V·W_O (and, where fold_ln applies, ln1's bias through W_V) belongs to
 * `bias`, not to the head.
 */
import { ModelWeights } from "../../src/core/weights";
import { ReferenceRun } from "./attentionReference";

export interface ReferenceWhy {
  components: string[];
  /** [key][c][c'] */
  terms: number[][][];
  /** [key]: the attention weight (reference pattern). */
  weights: number[];
  /** [key]: the reference score q·k/√E from the whole q and k (not from the parts). */
  scores: number[];
  /** [source] or null at the last position */
  sources: number[] | null;
  /** the head's DLA from its whole result */
  dla: number | null;
}

const vec = (D: number) => new Float64Array(D);

export function referenceWhy(w: ModelWeights, run: ReferenceRun, ids: number[], layer: number, head: number, query: number): ReferenceWhy {
  const { d_model: D, n_heads: H, d_head: E, d_vocab: V } = w.config;
  const norm = w.config.normalization_type !== null;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const folds = !shortformer && norm; // TransformerLens folds ln1 into the weights (and its bias into b_O) only here
  const posRow = (t: number) => vec(D).map((_, d) => w.W_pos.data[t * D + d]);
  const embedRow = (t: number) => vec(D).map((_, d) => w.W_E.data[ids[t] * D + d]);
  const centre = (x: Float64Array) => {
    const m = x.reduce((a, b) => a + b, 0) / D;
    return norm ? x.map((v) => v - m) : Float64Array.from(x);
  };
  const scaleOf = (x: Float64Array) => (norm ? Math.sqrt(centre(x).reduce((a, v) => a + v * v, 0) / D + 1e-5) : 1);
  const through = (x: Float64Array, W: Float32Array, h: number, rows: number, cols: number) =>
    vec(cols).map((_, c) => x.reduce((s, xv, r) => s + xv * W[(h * rows + r) * cols + c], 0));

  // Parts of the residual stream before each layer, per position.
  const memo = new Map<string, Float64Array[]>();
  const parts = (l: number, t: number): Float64Array[] => {
    const key = `${l},${t}`;
    if (!memo.has(key)) memo.set(key, partsAt(l, t));
    return memo.get(key)!;
  };
  const partsAt = (l: number, t: number): Float64Array[] => {
    const out = [embedRow(t), shortformer ? vec(D) : posRow(t)];
    const bias = vec(D);
    for (let m = 0; m < l; m++) {
      const b = w.blocks[m];
      for (let d = 0; d < D; d++) bias[d] += b.b_O.data[d];
      const resid = (u: number) => parts(m, u).reduce((a, p) => a.map((v, d) => v + p[d]), vec(D));
      for (let h = 0; h < H; h++) {
        // The head's part: Σ_u p[t,u] · (ln1 without the folded bias)(x_u) W_V W_O.
        const acc = vec(E);
        for (let u = 0; u <= t; u++) {
          const x = resid(u),
            s = scaleOf(x);
          const xn = centre(x).map((v, d) => (v / s) * (b.ln1_w ? b.ln1_w.data[d] : 1) + (!folds && b.ln1_b ? b.ln1_b.data[d] : 0));
          const v = through(xn, b.W_V.data, h, D, E);
          const p = run.patterns[m][h][t][u];
          for (let e = 0; e < E; e++) acc[e] += p * v[e];
        }
        out.push(through(acc, b.W_O.data, h, E, D));
        // What the processed weights move into b_O: b_V (and ln1's bias, when folded) through W_V, W_O.
        const bv = vec(E).map((_, e) => b.b_V.data[h * E + e]);
        if (folds && b.ln1_b) through(Float64Array.from(b.ln1_b.data), b.W_V.data, h, D, E).forEach((x, e) => (bv[e] += x));
        through(bv, b.W_O.data, h, E, D).forEach((x, d) => (bias[d] += x));
      }
    }
    out.push(bias);
    return out;
  };

  const blk = w.blocks[layer];
  const sideOf = (t: number, W: Float32Array, b: Float32Array): Float64Array[] => {
    const ps = parts(layer, t);
    const s = scaleOf(ps.reduce((a, p) => a.map((v, d) => v + p[d]), vec(D)));
    return ps.map((p, c) => {
      let x = shortformer && c === 1 ? posRow(t) : centre(p).map((v, d) => (v / s) * (blk.ln1_w ? blk.ln1_w.data[d] : 1));
      if (c === ps.length - 1 && blk.ln1_b) x = x.map((v, d) => v + blk.ln1_b!.data[d]);
      const y = through(x, W, head, D, E);
      if (c === ps.length - 1) y.forEach((_, e) => (y[e] += b[head * E + e]));
      return y;
    });
  };
  const q = sideOf(query, blk.W_Q.data, blk.b_Q.data);
  const terms: number[][][] = [],
    scores: number[] = [],
    weights: number[] = [];
  const sum = (xs: Float64Array[]) => xs.reduce((a, p) => a.map((v, e) => v + p[e]), vec(E));
  for (let j = 0; j <= query; j++) {
    const k = sideOf(j, blk.W_K.data, blk.b_K.data);
    terms.push(q.map((qc) => k.map((kc) => qc.reduce((s, v, e) => s + v * kc[e], 0) / Math.sqrt(E))));
    const qAll = sum(q),
      kAll = sum(k);
    scores.push(qAll.reduce((s, v, e) => s + v * kAll[e], 0) / Math.sqrt(E));
    weights.push(run.patterns[layer][head][query][j]);
  }

  let sources: number[] | null = null,
    dla: number | null = null;
  if (query + 1 < ids.length) {
    const next = ids[query + 1];
    // The processed unembedding direction: ln_final's weight folded in, and (center_unembed, not for
    // shortformer) the mean over the vocabulary taken out of W_U's rows.
    const direction = vec(D).map((_, d) => {
      let mean = 0;
      if (!shortformer) for (let t = 0; t < V; t++) mean += w.W_U.data[d * V + t] / V;
      return (w.W_U.data[d * V + next] - mean) * (w.ln_final_w ? w.ln_final_w.data[d] : 1);
    });
    const attribute = (c: Float64Array) => centre(c).reduce((s, v, d) => s + v * direction[d], 0) / run.finalScale[query];
    // Processed-weight semantics: the head's result without b_V (and without ln1's bias where folded).
    sources = [];
    for (let j = 0; j <= query; j++) {
      const x = parts(layer, j).reduce((a, p) => a.map((v, d) => v + p[d]), vec(D));
      const s = scaleOf(x);
      const xn = centre(x).map((v, d) => (v / s) * (blk.ln1_w ? blk.ln1_w.data[d] : 1) + (!folds && blk.ln1_b ? blk.ln1_b.data[d] : 0));
      const v = through(xn, blk.W_V.data, head, D, E).map((x) => x * run.patterns[layer][head][query][j]);
      sources.push(attribute(through(v, blk.W_O.data, head, E, D)));
    }
    dla = sources.reduce((a, b) => a + b, 0);
  }
  const names = ["embed", "pos"];
  for (let m = 0; m < layer; m++) for (let h = 0; h < H; h++) names.push(`L${m}H${h}`);
  return { components: [...names, "bias"], terms, weights, scores, sources, dla };
}
