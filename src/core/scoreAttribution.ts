/**
 * Why a head attends where it does, exactly. Before layer l the residual stream at position t is a
 * sum of named parts: embed (W_E[token]), pos (W_pos[t]; shortformer models add it after ln1, on the
 * Q/K side only, neither centred nor scaled), each earlier head's result z·W_O (TransformerLens's
 * stack_head_results) and bias (the earlier layers' b_O). LayerNorm's centring is linear and its
 * scale is held at the value the run had, so the query and the key split into the same parts (bias
 * also carries ln1's bias and b_Q / b_K) and the score splits into C × C terms
 * q_i^c · k_j^c' / √d_head that sum to it. Relative terms subtract each term's mean over the keys
 * the query sees: only differences between keys move the softmax.
 *
 * The key side is not projected part by part (C · D · d_head per key): each query part's direction
 * a^c = W_K q^c is brought back to the residual stream once, so a key costs C · (2·D + heads·d_head).
 */
import { headName } from "./heads";
import { strongestNonBosKey } from "./whyParts";
import { ModelWeights } from "./weights";

/** What one run of the model kept (hooks as TransformerLens names them). */
export interface RunHooks {
  ids: number[];
  /** Per layer [H, T, T] (hook_pattern). */
  patterns: Float32Array[];
  /** Per layer [H, T, E] (hook_z) and values [H, T, E] (hook_v). */
  z: Float32Array[];
  v: Float32Array[];
  /** Per layer [T]: ln1's scale (hook_scale); null without normalization. */
  lnScale: (Float32Array | null)[];
  /** [T]: ln_final's scale; null without normalization. */
  finalScale: Float32Array | null;
  /** Per layer [H, T]: each head's direct logit attribution to the next token. */
  dla: Float32Array[];
}

export interface ScoreAttribution {
  /** The residual stream's parts, in order: "embed", "pos", "L0H0" … (every earlier head), "bias". */
  components: string[];
  /** The positions explained: every key 0…query, or the one asked for. */
  keys: number[];
  /** [keys.length, C, C]: term[c][c'] = q_query^c · k_key^c' / √d_head (row = query side); they sum to the score. */
  terms: Float64Array;
  /** [keys.length, C, C]: each term minus its mean over keys 0…query, i.e. what it adds to this key's
   * score relative to the other keys (a term equal at every key does not move the softmax). */
  relative: Float64Array;
  /** [keys.length]: the score q·k/√d_head (TransformerLens's attn_scores), the terms' sum. */
  scores: Float64Array;
  /** [keys.length]: the attention weight (the pattern). */
  weights: Float64Array;
  /** For each earlier head, in component order: the position it attended to most at the query. */
  movedAtQuery: number[];
  /** [keys.length][earlier heads]: the same at each key. */
  movedAtKeys: number[][];
  /** The head's direct logit attribution at the query to the actual next token (null at the last position). */
  dla: number | null;
  /** [query + 1]: that attribution split by source position j (p_query,j · v_j W_O · direction); they sum to `dla`. */
  sources: Float64Array | null;
}

/** A token's direction for logit attribution: W_U's column through the final LN weight, centred over
 * d_model when the model normalizes (TransformerLens's apply_ln_to_stack centres the stack). */
export function unembedDirection(w: ModelWeights, token: number): Float64Array {
  const { d_model: D, d_vocab: V } = w.config;
  const dir = new Float64Array(D);
  let mean = 0;
  for (let d = 0; d < D; d++) mean += dir[d] = w.W_U.data[d * V + token] * (w.ln_final_w ? w.ln_final_w.data[d] : 1);
  if (w.config.normalization_type !== null) for (let d = 0; d < D; d++) dir[d] -= mean / D;
  return dir;
}

export function componentNames(layer: number, nHeads: number): string[] {
  const heads = Array.from({ length: layer * nHeads }, (_, i) => headName(Math.floor(i / nHeads), i % nHeads));
  return ["embed", "pos", ...heads, "bias"];
}

const dot = (a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
};

export function attributeScore(
  w: ModelWeights,
  run: RunHooks,
  layer: number,
  head: number,
  query: number,
  onlyKey?: number,
): ScoreAttribution {
  const { n_heads: H, d_head: E, d_model: D } = w.config;
  const T = run.ids.length;
  const norm = w.config.normalization_type !== null;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const blk = w.blocks[layer];
  const components = componentNames(layer, H);
  const C = components.length,
    nBefore = layer * H,
    BIAS = C - 1;
  const scaleAt = (t: number) => (norm ? run.lnScale[layer]![t] : 1);
  const lnW = blk.ln1_w?.data,
    lnB = blk.ln1_b?.data;

  // The residual's bias part: the earlier layers' b_O, the same at every position.
  const bias = new Float64Array(D);
  for (let l = 0; l < layer; l++) for (let d = 0; d < D; d++) bias[d] += w.blocks[l].b_O.data[d];

  // Query side: each part as ln1 sees it at the query (centred, over the query's scale, times ln1's weight), through W_Q.
  const qkIn = (c: number, t: number): Float64Array => {
    const x = new Float64Array(D);
    if (c === 0) for (let d = 0; d < D; d++) x[d] = w.W_E.data[run.ids[t] * D + d];
    else if (c === 1) for (let d = 0; d < D; d++) x[d] = w.W_pos.data[t * D + d];
    else if (c === BIAS) x.set(bias);
    else {
      const l = Math.floor((c - 2) / H),
        h = (c - 2) % H;
      const zo = (h * T + t) * E,
        Wo = w.blocks[l].W_O.data;
      for (let e = 0; e < E; e++) {
        const ze = run.z[l][zo + e];
        for (let d = 0; d < D; d++) x[d] += ze * Wo[(h * E + e) * D + d];
      }
    }
    if (c === 1 && shortformer) return x; // added after ln1: neither centred nor scaled
    if (norm) {
      let mean = 0;
      for (let d = 0; d < D; d++) mean += x[d];
      mean /= D;
      const s = scaleAt(t);
      for (let d = 0; d < D; d++) x[d] = ((x[d] - mean) / s) * (lnW ? lnW[d] : 1);
    }
    if (c === BIAS && lnB) for (let d = 0; d < D; d++) x[d] += lnB[d];
    return x;
  };
  const WQ = blk.W_Q.data,
    WK = blk.W_K.data,
    hD = head * D * E;
  const q: Float64Array[] = [];
  for (let c = 0; c < C; c++) {
    const x = qkIn(c, query);
    const qc = new Float64Array(E);
    for (let d = 0; d < D; d++) {
      const xd = x[d];
      if (xd !== 0) for (let e = 0; e < E; e++) qc[e] += xd * WQ[hD + d * E + e];
    }
    if (c === BIAS) for (let e = 0; e < E; e++) qc[e] += blk.b_Q.data[head * E + e];
    q.push(qc);
  }

  // Each query part's key direction a^c = W_K q^c / √E in the residual stream, and what reaches it from each key part.
  const inv = 1 / Math.sqrt(E);
  const aRaw: Float64Array[] = [],
    aRes: Float64Array[] = [],
    constK: number[] = [];
  for (let c = 0; c < C; c++) {
    const a = new Float64Array(D);
    for (let d = 0; d < D; d++) a[d] = dot(WK, hD + d * E, q[c], 0, E) * inv;
    aRaw.push(a);
    // ln1 on the key: centre(x)/s · w, so x · (centre(w ⊙ a)) / s; without normalization x · a.
    const r = new Float64Array(D);
    let mean = 0;
    for (let d = 0; d < D; d++) mean += r[d] = a[d] * (lnW ? lnW[d] : 1);
    if (norm) for (let d = 0; d < D; d++) r[d] -= mean / D;
    aRes.push(r);
    constK.push((lnB ? dot(lnB, 0, a, 0, D) : 0) + dot(blk.b_K.data, head * E, q[c], 0, E) * inv);
  }
  // The key side: every query part's direction, one after another ([c][d]).
  const flat = (vs: Float64Array[]) => {
    const out = new Float64Array(vs.length * vs[0].length);
    vs.forEach((v, c) => out.set(v, c * v.length));
    return out;
  };
  const towardsRes = flat(aRes),
    towardsPos = shortformer ? flat(aRaw) : towardsRes;
  // Earlier heads: z · (W_O a^c), so a key costs d_head per head instead of d_model; [head][c][e].
  const viaHeads = new Float64Array(nBefore * C * E);
  for (let i = 0; i < nBefore; i++) {
    const l = Math.floor(i / H),
      h = i % H,
      Wo = w.blocks[l].W_O.data;
    for (let c = 0; c < C; c++) for (let e = 0; e < E; e++) viaHeads[(i * C + c) * E + e] = dot(Wo, (h * E + e) * D, aRes[c], 0, D);
  }
  const biasDot = aRes.map((r) => dot(bias, 0, r, 0, D));

  const nKeys = query + 1;
  const all = new Float64Array(nKeys * C * C);
  /** all[j][c][col] = s · x · M[c] for every query part c (four sums at a time: this loop is most of the work). */
  const project = (x: Float32Array, x0: number, n: number, M: Float64Array, m0: number, o: number, col: number, s: number) => {
    const n4 = n - (n % 4);
    for (let c = 0; c < C; c++) {
      const r = m0 + c * n;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let d = 0; d < n4; d += 4) {
        s0 += x[x0 + d] * M[r + d];
        s1 += x[x0 + d + 1] * M[r + d + 1];
        s2 += x[x0 + d + 2] * M[r + d + 2];
        s3 += x[x0 + d + 3] * M[r + d + 3];
      }
      for (let d = n4; d < n; d++) s0 += x[x0 + d] * M[r + d];
      all[o + c * C + col] = (s0 + s1 + s2 + s3) * s;
    }
  };
  for (let j = 0; j < nKeys; j++) {
    const s = 1 / scaleAt(j),
      o = j * C * C;
    project(w.W_E.data, run.ids[j] * D, D, towardsRes, 0, o, 0, s);
    project(w.W_pos.data, j * D, D, towardsPos, 0, o, 1, shortformer ? 1 : s);
    for (let i = 0; i < nBefore; i++) {
      const l = Math.floor(i / H),
        h = i % H;
      project(run.z[l], (h * T + j) * E, E, viaHeads, i * C * E, o, 2 + i, s);
    }
    for (let c = 0; c < C; c++) all[o + c * C + BIAS] = biasDot[c] * s + constK[c];
  }
  const mean = new Float64Array(C * C);
  for (let j = 0; j < nKeys; j++) for (let k = 0; k < C * C; k++) mean[k] += all[j * C * C + k] / nKeys;

  const keys = onlyKey === undefined ? Array.from({ length: nKeys }, (_, j) => j) : [onlyKey];
  const terms = new Float64Array(keys.length * C * C),
    relative = new Float64Array(keys.length * C * C),
    scores = new Float64Array(keys.length),
    weights = new Float64Array(keys.length);
  const pat = run.patterns[layer];
  keys.forEach((j, n) => {
    for (let k = 0; k < C * C; k++) {
      const t = all[j * C * C + k];
      terms[n * C * C + k] = t;
      relative[n * C * C + k] = t - mean[k];
      scores[n] += t;
    }
    weights[n] = pat[(head * T + query) * T + j];
  });
  // Where each earlier head attended most from t: the token its part carries (BOS included: it may carry BOS).
  const headPatterns = Array.from({ length: nBefore }, (_, i) =>
    run.patterns[Math.floor(i / H)].subarray((i % H) * T * T, ((i % H) + 1) * T * T),
  );
  const moved = (t: number) => headPatterns.map((p) => strongestNonBosKey(p, T, t, false));

  // The value side: the head's logit attribution at the query, p_qj · v_j · (W_O[h] · dir) / final scale.
  let dla: number | null = null,
    sources: Float64Array | null = null;
  if (query + 1 < T) {
    const next = run.ids[query + 1];
    const dir = unembedDirection(w, next);
    const Wo = blk.W_O.data,
      out = new Float64Array(E);
    for (let e = 0; e < E; e++) out[e] = dot(Wo, (head * E + e) * D, dir, 0, D);
    const sf = run.finalScale ? run.finalScale[query] : 1;
    sources = new Float64Array(nKeys);
    for (let j = 0; j < nKeys; j++) sources[j] = (pat[(head * T + query) * T + j] * dot(run.v[layer], (head * T + j) * E, out, 0, E)) / sf;
    dla = run.dla[layer][head * T + query];
  }
  return { components, keys, terms, relative, scores, weights, movedAtQuery: moved(query), movedAtKeys: keys.map(moved), dla, sources };
}
