/**
 * Attention patterns made small enough to cross to the panel for its grid: each head's [T, T]
 * pattern quantized to bytes (255 = weight 1) and, above `size` tokens, max-pooled into size × size
 * bins — a thin stripe (an induction or previous-token head) stays visible where an average would
 * fade it. Exact weights are fetched per head when the user enlarges one.
 */

/** Bin edges: bin b covers [edge[b], edge[b + 1]) of T positions. */
function edges(T: number, size: number): Int32Array {
  const e = new Int32Array(size + 1);
  for (let b = 0; b <= size; b++) e[b] = Math.floor((b * T) / size);
  return e;
}

/** patterns [H, T, T] → [H, S, S] bytes with S = min(T, maxSize). */
export function thumbnails(patterns: Float32Array, H: number, T: number, maxSize: number): { size: number; data: Uint8Array } {
  const S = Math.min(T, maxSize);
  const out = new Uint8Array(H * S * S);
  if (S === T) {
    for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, patterns[i])) * 255);
    return { size: S, data: out };
  }
  const e = edges(T, S);
  const rowMax = new Float32Array(S);
  for (let h = 0; h < H; h++) {
    for (let bi = 0; bi < S; bi++) {
      rowMax.fill(0);
      for (let i = e[bi]; i < e[bi + 1]; i++) {
        const row = (h * T + i) * T;
        for (let bj = 0; bj < S; bj++) {
          let m = rowMax[bj];
          for (let j = e[bj]; j < e[bj + 1]; j++) if (patterns[row + j] > m) m = patterns[row + j];
          rowMax[bj] = m;
        }
      }
      const base = (h * S + bi) * S;
      for (let bj = 0; bj < S; bj++) out[base + bj] = Math.round(Math.min(1, rowMax[bj]) * 255);
    }
  }
  return { size: S, data: out };
}

/** One head's [T, T] pattern out of a layer's [H, T, T]. */
export function headPattern(layer: Float32Array, head: number, T: number): Float32Array {
  return layer.slice(head * T * T, (head + 1) * T * T);
}

/**
 * A head's `n` strongest edges over all its query rows from `fromQuery` on (positive weights, key
 * `skip` left out), strongest first; ties: the earlier query, then the earlier key. One pass with a
 * running threshold: sorting every row (topKeys per row) took seconds at 1 024 tokens × 16 heads.
 */
export function strongestEdges(
  layer: Float32Array,
  head: number,
  T: number,
  n: number,
  fromQuery: number,
  skip: number,
): { q: number; k: number; w: number }[] {
  const best: { q: number; k: number; w: number }[] = [];
  let floor = 0; // the weight an edge must exceed once `best` is full (an equal one comes later in the order: it loses)
  for (let q = fromQuery; q < T; q++) {
    const row = (head * T + q) * T;
    for (let k = 0; k < T; k++) {
      const w = layer[row + k];
      if (!(w > floor) || k === skip) continue;
      let at = best.length;
      while (at > 0 && best[at - 1].w < w) at--;
      if (at >= n) continue;
      best.splice(at, 0, { q, k, w });
      if (best.length > n) best.pop();
      if (best.length === n) floor = best[n - 1].w;
    }
  }
  return best;
}

/** The `n` strongest weights of one query row, descending (ties: the earlier key first). */
export function topKeys(row: ArrayLike<number>, n: number): { key: number; weight: number }[] {
  const idx = Array.from({ length: row.length }, (_, j) => j).filter((j) => row[j] > 0);
  idx.sort((a, b) => row[b] - row[a] || a - b);
  return idx.slice(0, n).map((key) => ({ key, weight: row[key] }));
}
