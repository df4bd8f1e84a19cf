/**
 * The naive reference: materializes QK and OV (V×V, float64) from processed weights exactly as
 * the notebook does, then applies its selection. Only for small V.
 */
import { HeadReport, ReportSizes } from "../../src/core/report";
import { ModelWeights } from "../../src/core/weights";

/** Naive float64 matmul: C[m,n] = A[m,k] · B[k,n]. */
export function mm64(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      for (let j = 0; j < n; j++) out[i * n + j] += av * b[p * n + j];
    }
  return out;
}

function transpose(a: Float64Array, r: number, c: number): Float64Array {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
}

function sortedDesc(values: Float64Array, n: number): number[] {
  return Array.from(values.keys())
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, n);
}

export interface Oracle {
  report: HeadReport;
  importance: Float64Array;
  maxQK: Float64Array;
  maxOV: Float64Array;
  /** QKn[q, k] and OVn[k, o] for any key k. */
  qkColumn(k: number): Float64Array;
  ovRow(k: number): Float64Array;
  priorWeight: Float64Array;
}

export function denseOracle(
  w: ModelWeights,
  layer: number,
  head: number,
  bos: number,
  prior: Float64Array,
  sizes: ReportSizes,
  label: (id: number) => string,
): Oracle {
  const { d_vocab: V, d_model: D, d_head: E } = w.config;
  const b = w.blocks[layer];
  const sl = (t: Float32Array, n: number) => t.subarray(head * n, (head + 1) * n);
  const WE = w.W_E.data;
  // W_QK = W_Q W_Kᵀ [D, D]; QK = W_E W_QK W_Eᵀ [V, V]
  const WQK = mm64(sl(b.W_Q.data, D * E), transpose(Float64Array.from(sl(b.W_K.data, D * E)), D, E), D, E, D);
  const QK = mm64(mm64(WE, WQK, V, D, D), transpose(Float64Array.from(WE), V, D), V, D, V);
  for (let q = 0; q < V; q++) {
    const base = QK[q * V + bos];
    for (let k = 0; k < V; k++) QK[q * V + k] -= base;
  }
  const WOV = mm64(sl(b.W_V.data, D * E), sl(b.W_O.data, E * D), D, E, D);
  const OV = mm64(mm64(WE, WOV, V, D, D), w.W_U.data, V, D, V);
  for (let s = 0; s < V; s++) {
    let m = 0;
    for (let o = 0; o < V; o++) m += OV[s * V + o];
    m /= V;
    for (let o = 0; o < V; o++) OV[s * V + o] -= m;
  }
  const pw = prior.map((p) => Math.pow(p, 0.1));
  const maxQK = new Float64Array(V).fill(-Infinity),
    maxOV = new Float64Array(V).fill(-Infinity);
  for (let q = 0; q < V; q++) for (let k = 0; k < V; k++) maxQK[k] = Math.max(maxQK[k], QK[q * V + k]);
  for (let s = 0; s < V; s++) for (let o = 0; o < V; o++) maxOV[s] = Math.max(maxOV[s], OV[s * V + o]);
  const imp = new Float64Array(V).map((_, k) => maxQK[k] * maxOV[k] * pw[k]);
  const keys = sortedDesc(imp, sizes.nKeys).map((k) => {
    const col = new Float64Array(V).map((_, q) => QK[q * V + k]);
    const weighted = col.map((x, q) => x * pw[q]);
    const row = OV.slice(k * V, (k + 1) * V);
    return {
      id: k,
      token: label(k),
      importance: imp[k],
      maxQK: maxQK[k],
      maxOV: maxOV[k],
      queries: sortedDesc(weighted, sizes.nQueries).map((q) => ({ id: q, token: label(q), score: col[q] })),
      outputs: sortedDesc(row, sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: row[o] })),
    };
  });
  return {
    report: { model: w.config.model_name, layer, head, bos, ep: "oracle", keys },
    importance: imp,
    maxQK,
    maxOV,
    priorWeight: pw,
    qkColumn: (k) => new Float64Array(V).map((_, q) => QK[q * V + k]),
    ovRow: (k) => OV.slice(k * V, (k + 1) * V),
  };
}
