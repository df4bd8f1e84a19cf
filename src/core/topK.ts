/** Top-n selection with the reports' rules: descending, equal values to the lower index, NaN last. */
export type Scores = ArrayLike<number>;

/** Indices of the n largest values, descending, ties to the lower index; NaN ranks last. */
export function topK(values: Scores, n: number): number[] {
  const k = Math.min(n, values.length);
  if (k <= 0) return [];
  // Bounded min-heap of candidate indices keyed by (value, -index).
  const heap: number[] = [];
  const less = (a: number, b: number) => {
    const va = key(values[a]),
      vb = key(values[b]);
    return va < vb || (va === vb && a > b);
  };
  const sift = (i: number) => {
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0;) {
        const p = (j - 1) >> 1;
        if (!less(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (less(heap[0], i)) {
      heap[0] = i;
      sift(0);
    }
  }
  return heap.sort((a, b) => (less(a, b) ? 1 : less(b, a) ? -1 : 0));
}

/**
 * Adds v to `best`, the n largest values seen so far in ascending order, so that best[0] is the
 * n-th largest once n are in (NaN is never kept). For a running threshold over a stream.
 */
export function keepLargest(best: number[], v: number, n: number): void {
  if (Number.isNaN(v) || (best.length === n && !(v > best[0]))) return;
  let p = 0;
  while (p < best.length && best[p] < v) p++;
  best.splice(p, 0, v);
  if (best.length > n) best.shift();
}

function key(v: number): number {
  return Number.isNaN(v) ? -Infinity : v;
}
