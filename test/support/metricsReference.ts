/**
 * Head metrics in float64, from the raw weights, written from their definitions: the pattern scores
 * from an independent forward pass (attentionReference.ts) on the metric sequences, the composition
 * scores from TransformerLens's processing done by hand (fold_layer_norm with centred reading
 * weights, centre_writing_weights) and all_composition_scores: ‖OV₁·R₂‖_F / (‖OV₁‖_F ‖R₂‖_F).
 */
import { ModelWeights } from "../../src/core/weights";
import { referenceRun } from "./attentionReference";
import { mm64 } from "./denseOracle";
import { mulberry32 } from "./random";

export interface ReferenceMetrics {
  heads: { layer: number; head: number; prevToken: number; induction: number; duplicateToken: number; bos: number }[];
  composition: Record<"q" | "k" | "v", number[][][][]>;
}

/**
 * The metric sequences from their definition (docs/definitions.md, "Head metrics"): 16 × BOS + r + r,
 * r = min(50, ⌊(n_ctx − 1)/2⌋) distinct tokens, each a uniform draw (mulberry32, seed 20241127)
 * among the ids of 16 runs of 64 consecutive ids spread evenly (first at 0, last ending at V; the
 * whole vocabulary when V ≤ 1 024) except BOS and those drawn before — a partial Fisher–Yates shuffle.
 */
export function referenceSequences(V: number, bos: number, nCtx: number): { tokens: number[][]; repeat: number } {
  const repeat = Math.min(50, Math.floor((nCtx - 1) / 2));
  const runs =
    V <= 1024 ? [[0, V]] : Array.from({ length: 16 }, (_, k) => [Math.round((k * (V - 64)) / 15), Math.round((k * (V - 64)) / 15) + 64]);
  const ids = runs.flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)).filter((id) => id !== bos);
  const rand = mulberry32(20241127);
  const tokens = Array.from({ length: 16 }, () => {
    const pool = [...ids];
    for (let i = 0; i < repeat; i++) {
      const j = i + Math.floor(rand() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const r = pool.slice(0, repeat);
    return [bos, ...r, ...r];
  });
  return { tokens, repeat };
}

export function referenceMetrics(w: ModelWeights, bos: number): ReferenceMetrics {
  const { n_layers: L, n_heads: H, d_model: D, d_head: E } = w.config;
  const { tokens, repeat } = referenceSequences(w.config.d_vocab, bos, w.config.n_ctx);
  const runs = tokens.map((seq) => referenceRun(w, seq).patterns);
  const T = tokens[0].length;
  const mean = (l: number, h: number, from: number, to: number, col: (i: number) => number) => {
    let s = 0,
      n = 0;
    for (const p of runs)
      for (let i = from; i < to; i++) {
        s += p[l][h][i][col(i)];
        n++;
      }
    return s / n;
  };
  const heads: ReferenceMetrics["heads"] = [];
  for (let l = 0; l < L; l++)
    for (let h = 0; h < H; h++)
      heads.push({
        layer: l,
        head: h,
        prevToken: mean(l, h, 2, T, (i) => i - 1),
        induction: mean(l, h, repeat + 1, T, (i) => i - repeat + 1),
        duplicateToken: mean(l, h, repeat + 1, T, (i) => i - repeat),
        bos: mean(l, h, 1, T, () => 0),
      });
  // Processed per-head matrices [D, E] (reading) and [E, D] (writing), in float64.
  const read = (l: number, h: number, m: "W_Q" | "W_K" | "W_V") => {
    const b = w.blocks[l];
    const out = new Float64Array(D * E);
    for (let d = 0; d < D; d++)
      for (let e = 0; e < E; e++) out[d * E + e] = b[m].data[(h * D + d) * E + e] * (b.ln1_w ? b.ln1_w.data[d] : 1);
    if (b.ln1_w)
      for (let e = 0; e < E; e++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += out[d * E + e];
        for (let d = 0; d < D; d++) out[d * E + e] -= s / D;
      }
    return out;
  };
  const writeO = (l: number, h: number) => {
    const out = new Float64Array(E * D);
    for (let e = 0; e < E; e++) {
      const row = w.blocks[l].W_O.data.subarray((h * E + e) * D, (h * E + e + 1) * D);
      const m = row.reduce((a, x) => a + x, 0) / D;
      for (let d = 0; d < D; d++) out[e * D + d] = row[d] - m;
    }
    return out;
  };
  const transpose = (a: Float64Array, rows: number, cols: number) => {
    const t = new Float64Array(a.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
    return t;
  };
  const frob = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  const ov = (l: number, h: number) => mm64(read(l, h, "W_V"), writeO(l, h), D, E, D);
  const qk = (l: number, h: number) => mm64(read(l, h, "W_Q"), transpose(read(l, h, "W_K"), D, E), D, E, D);
  const right = { q: qk, k: (l: number, h: number) => transpose(qk(l, h), D, D), v: ov };
  const composition = {} as ReferenceMetrics["composition"];
  for (const mode of ["q", "k", "v"] as const) {
    composition[mode] = Array.from({ length: L }, (_, l1) =>
      Array.from({ length: H }, (_, h1) =>
        Array.from({ length: L }, (_, l2) =>
          Array.from({ length: H }, (_, h2) => {
            if (l1 >= l2) return 0;
            const [a, b] = [ov(l1, h1), right[mode](l2, h2)];
            return frob(mm64(a, b, D, D, D)) / (frob(a) * frob(b));
          }),
        ),
      ),
    );
  }
  return { heads, composition };
}
