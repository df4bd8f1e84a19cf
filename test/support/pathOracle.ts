/**
 * Independent float64 references for the #12 figures, from processed weights and dense matrices
 * (small V, d_model only): composition paths materialized V×V, composition scores and copying
 * scores from dense products, key ranks from every key's importance.
 */
import { PathRef } from "../../src/core/report";
import { ModelWeights } from "../../src/core/weights";
import { mm64 } from "./denseOracle";

const T = (a: ArrayLike<number>, r: number, c: number) => {
  const t = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a[i * c + j];
  return t;
};
const slice = (t: Float32Array, h: number, n: number) => Float64Array.from(t.subarray(h * n, (h + 1) * n));

/** Per-head d_model matrices: W_Q W_Kᵀ and W_V W_O (D × D). */
export function headMatrices(w: ModelWeights, l: number, h: number): { qk: Float64Array; ov: Float64Array } {
  const { d_model: D, d_head: E } = w.config;
  const b = w.blocks[l];
  return {
    qk: mm64(slice(b.W_Q.data, h, D * E), T(slice(b.W_K.data, h, D * E), D, E), D, E, D),
    ov: mm64(slice(b.W_V.data, h, D * E), slice(b.W_O.data, h, E * D), D, E, D),
  };
}

const frob = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

/** TransformerLens's composition score for one pair, from dense D × D matrices. */
export function compositionScore64(w: ModelWeights, l1: number, h1: number, l2: number, h2: number, mode: "q" | "k" | "v"): number {
  const D = w.config.d_model;
  const ov = headMatrices(w, l1, h1).ov,
    m2 = headMatrices(w, l2, h2);
  const right = mode === "q" ? m2.qk : mode === "k" ? T(m2.qk, D, D) : m2.ov;
  return frob(mm64(ov, right, D, D, D)) / (frob(ov) * frob(right));
}

/** The dense token-space OV circuit W_E W_V W_O W_U (V × V). */
export function tokenOV64(w: ModelWeights, l: number, h: number): Float64Array {
  const { d_model: D, d_vocab: V } = w.config;
  return mm64(mm64(w.W_E.data, headMatrices(w, l, h).ov, V, D, D), w.W_U.data, V, D, V);
}

/** Dense path matrices (V × V), normalized as the engine's: QK minus its BOS column, OV minus its row mean. */
export function pathMatrices64(w: ModelWeights, l: number, h: number, via: PathRef, bos: number): { qk?: Float64Array; ov?: Float64Array } {
  const { d_model: D, d_vocab: V } = w.config;
  const E = Float64Array.from(w.W_E.data);
  const moved = mm64(E, headMatrices(w, via.layer, via.head).ov, V, D, D); // E·OV2
  const m = headMatrices(w, l, h);
  const bosNorm = (qk: Float64Array) => {
    for (let r = 0; r < V; r++) {
      const base = qk[r * V + bos];
      for (let c = 0; c < V; c++) qk[r * V + c] -= base;
    }
    return qk;
  };
  const centred = (ov: Float64Array) => {
    for (let r = 0; r < V; r++) {
      let s = 0;
      for (let c = 0; c < V; c++) s += ov[r * V + c];
      for (let c = 0; c < V; c++) ov[r * V + c] -= s / V;
    }
    return ov;
  };
  const direct = () => centred(mm64(mm64(E, m.ov, V, D, D), w.W_U.data, V, D, V));
  if (via.type === "k") return { qk: bosNorm(mm64(mm64(E, m.qk, V, D, D), T(moved, V, D), V, D, V)) };
  if (via.type === "q") return { qk: bosNorm(mm64(mm64(moved, m.qk, V, D, D), T(E, V, D), V, D, V)), ov: direct() };
  return { ov: centred(mm64(mm64(moved, m.ov, V, D, D), w.W_U.data, V, D, V)) };
}

/** rank_r = #{c : M[r, c] > M[r, r]} for every row. */
export function diagonalRanks64(m: Float64Array, V: number): Int32Array {
  const out = new Int32Array(V);
  for (let r = 0; r < V; r++) for (let c = 0; c < V; c++) if (m[r * V + c] > m[r * V + r]) out[r]++;
  return out;
}
