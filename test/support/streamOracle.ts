/**
 * A naive float64 reference for vocabularies too large to materialize (the bundled models, V ≈ 12k):
 * the same definitions as denseOracle, evaluated entry by entry in float64 from the factors
 * (W_E W_Q, W_E W_K − BOS row, W_E W_V, W_O W_U − row mean), with no blocking, no onnxruntime and no
 * candidate shortcuts. denseOracle (which forms W_E W_QK W_Eᵀ itself) checks the factorization.
 */
import { ReportSizes } from "../../src/core/report";
import { ModelWeights } from "../../src/core/weights";
import { mm64, Oracle } from "./denseOracle";

export function streamOracle(
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
  const Q = mm64(w.W_E.data, sl(b.W_Q.data, D * E), V, D, E);
  const K = mm64(w.W_E.data, sl(b.W_K.data, D * E), V, D, E);
  const kb = K.slice(bos * E, bos * E + E);
  for (let i = 0; i < V; i++) for (let e = 0; e < E; e++) K[i * E + e] -= kb[e];
  const S = mm64(w.W_E.data, sl(b.W_V.data, D * E), V, D, E);
  const OU = mm64(sl(b.W_O.data, E * D), w.W_U.data, E, D, V);
  for (let e = 0; e < E; e++) {
    let m = 0;
    for (let o = 0; o < V; o++) m += OU[e * V + o];
    m /= V;
    for (let o = 0; o < V; o++) OU[e * V + o] -= m;
  }
  const qk = (q: number, k: number) => {
    let s = 0;
    for (let e = 0; e < E; e++) s += Q[q * E + e] * K[k * E + e];
    return s;
  };
  const ov = (s: number, o: number) => {
    let x = 0;
    for (let e = 0; e < E; e++) x += S[s * E + e] * OU[e * V + o];
    return x;
  };
  const maxQK = new Float64Array(V),
    maxOV = new Float64Array(V);
  for (let k = 0; k < V; k++) {
    let m = -Infinity;
    for (let q = 0; q < V; q++) m = Math.max(m, qk(q, k));
    maxQK[k] = m;
  }
  for (let s = 0; s < V; s++) {
    let m = -Infinity;
    for (let o = 0; o < V; o++) m = Math.max(m, ov(s, o));
    maxOV[s] = m;
  }
  const pw = prior.map((p) => Math.pow(p, 0.1));
  const imp = new Float64Array(V).map((_, k) => maxQK[k] * maxOV[k] * pw[k]);
  const top = (v: Float64Array, n: number) =>
    Array.from(v.keys())
      .sort((a, c) => v[c] - v[a] || a - c)
      .slice(0, n);
  const qkColumn = (k: number) => new Float64Array(V).map((_, q) => qk(q, k));
  const ovRow = (k: number) => new Float64Array(V).map((_, o) => ov(k, o));
  const keys = top(imp, sizes.nKeys).map((k) => {
    const col = qkColumn(k),
      row = ovRow(k);
    return {
      id: k,
      token: label(k),
      importance: imp[k],
      maxQK: maxQK[k],
      maxOV: maxOV[k],
      queries: top(
        col.map((x, q) => x * pw[q]),
        sizes.nQueries,
      ).map((q) => ({ id: q, token: label(q), score: col[q] })),
      outputs: top(row, sizes.nOutputs).map((o) => ({ id: o, token: label(o), score: row[o] })),
    };
  });
  return {
    report: { model: w.config.model_name, layer, head, bos, ep: "oracle", keys },
    importance: imp,
    maxQK,
    maxOV,
    qkColumn,
    ovRow,
    priorWeight: pw,
  };
}
