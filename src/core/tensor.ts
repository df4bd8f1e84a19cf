/** Row-major float32 tensors and the few dense kernels core code needs (all O(V·d), never O(V²)). */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data && data.length !== n) throw new Error(`tensor data length ${data.length} != product of shape [${shape}]`);
  return { shape, data: data ?? new Float32Array(n) };
}

export function clone(t: Tensor): Tensor {
  return { shape: [...t.shape], data: new Float32Array(t.data) };
}

/** C[m,n] = A[m,k] · B[k,n], accumulated in float64 per row for accuracy. */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const row = p * n;
      for (let j = 0; j < n; j++) acc[j] += av * b[row + j];
    }
    out.set(acc, i * n);
  }
  return out;
}

/** Slice [i] of a leading axis: t[i, ...] as a view. */
export function slice0(t: Tensor, i: number): Tensor {
  const inner = t.shape.slice(1);
  const n = inner.reduce((a, b) => a * b, 1);
  return { shape: inner, data: t.data.subarray(i * n, (i + 1) * n) };
}

/** Aᵀ for A [rows, cols], in 32 × 32 tiles so reads and writes both stay in cache (2× at V × 64). */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols),
    B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0, o = i * cols; j < j1; j++) out[j * rows + i] = a[o + j];
    }
  }
  return out;
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** Σ a[off + i]² for i < n, in float64. */
export function normSq(a: Float32Array, off: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[off + i] * a[off + i];
  return s;
}
