/**
 * Upper bounds for maximum-inner-product searches over a fixed point set (a head's query or output
 * vectors): cluster the points once (k-means, assignments on onnxruntime), keep each cluster's
 * centroid μ_j and radius r_j, then for any vector c
 *   max_{a in cluster j} a·c ≤ μ_j·c + r_j‖c‖   (Cauchy–Schwarz on a − μ_j),
 * so max_a a·c ≤ max_j (μ_j·c + r_j‖c‖). Any clustering gives a valid bound; better clusters give
 * tighter ones. Bounds are computed in float32 and inflated to cover its rounding.
 */
import { OrtBackend } from "./ortBackend";
import { mulberry32 } from "../core/random";

export interface Clusters {
  /** [C, E] */
  centroids: Float32Array;
  radii: Float32Array;
  count: number;
}

export async function kMeans(backend: OrtBackend, points: Float32Array, n: number, dim: number, clusters: number, iterations: number, seed = 1): Promise<Clusters> {
  const C = Math.min(clusters, n);
  const rnd = mulberry32(seed);
  // Distinct random points as initial centroids (partial Fisher–Yates).
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < C; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const centroids = new Float32Array(C * dim);
  for (let c = 0; c < C; c++) centroids.set(points.subarray(idx[c] * dim, (idx[c] + 1) * dim), c * dim);
  // Augmented points [a, 1] against [μ; −‖μ‖²/2]: argmax = nearest centroid.
  const aug = new Float32Array(n * (dim + 1));
  for (let i = 0; i < n; i++) {
    aug.set(points.subarray(i * dim, (i + 1) * dim), i * (dim + 1));
    aug[i * (dim + 1) + dim] = 1;
  }
  let assign: Int32Array = new Int32Array(n);
  const rows = Math.max(1, Math.floor((16 * 2 ** 20) / (4 * C)));
  for (let it = 0; it <= iterations; it++) {
    const m = new Float32Array((dim + 1) * C);
    for (let c = 0; c < C; c++) {
      let sq = 0;
      for (let e = 0; e < dim; e++) {
        const v = centroids[c * dim + e];
        m[e * C + c] = v;
        sq += v * v;
      }
      m[dim * C + c] = -sq / 2;
    }
    assign = await backend.blockedRowArgMax(aug, m, n, dim + 1, C, rows);
    if (it === iterations) break;
    const sums = new Float64Array(C * dim), counts = new Int32Array(C);
    for (let i = 0; i < n; i++) {
      const c = assign[i];
      counts[c]++;
      for (let e = 0; e < dim; e++) sums[c * dim + e] += points[i * dim + e];
    }
    for (let c = 0; c < C; c++) if (counts[c] > 0) for (let e = 0; e < dim; e++) centroids[c * dim + e] = sums[c * dim + e] / counts[c];
  }
  const radii = new Float32Array(C);
  for (let i = 0; i < n; i++) {
    const c = assign[i];
    let d = 0;
    for (let e = 0; e < dim; e++) {
      const x = points[i * dim + e] - centroids[c * dim + e];
      d += x * x;
    }
    radii[c] = Math.max(radii[c], Math.sqrt(d));
  }
  return { centroids, radii, count: C };
}

/** bound[k] ≥ max over the clustered points of (point · vectors_k), for every row k of `vectors`. */
export async function maxInnerProductBounds(backend: OrtBackend, cl: Clusters, vectors: Float32Array, n: number, dim: number): Promise<Float64Array> {
  const C = cl.count;
  const m = new Float32Array(dim * C);
  for (let c = 0; c < C; c++) for (let e = 0; e < dim; e++) m[e * C + c] = cl.centroids[c * dim + e];
  // Radii nudged up so float32 rounding of centroids cannot make the bound unsafe.
  const radii = cl.radii.map((r) => r * (1 + 1e-5) + 1e-6);
  // The largest |μ_j·c| + r_j‖c‖ per unit ‖c‖: float32 error is a tiny fraction of it.
  let scale = 0;
  for (let c = 0; c < C; c++) {
    let sq = 0;
    for (let e = 0; e < dim; e++) sq += cl.centroids[c * dim + e] ** 2;
    scale = Math.max(scale, Math.sqrt(sq) + radii[c]);
  }
  const s = await backend.rowMaxSession(m, dim, C, radii);
  const out = new Float64Array(n);
  try {
    const rows = Math.max(1, Math.floor((16 * 2 ** 20) / (4 * C)));
    for (let start = 0; start < n; start += rows) {
      const end = Math.min(n, start + rows);
      const norms = new Float32Array(end - start);
      for (let i = start; i < end; i++) {
        let sq = 0;
        for (let e = 0; e < dim; e++) sq += vectors[i * dim + e] ** 2;
        norms[i - start] = Math.sqrt(sq);
      }
      const y = await s.run(vectors.subarray(start * dim, end * dim), end - start, norms);
      for (let i = 0; i < y.length; i++) {
        // float32 matmul error is at most ~dim·ε·(‖μ‖ + r)‖c‖ ≈ 4e-6 of the scale: 1e-4 covers it.
        out[start + i] = y[i] + 1e-4 * scale * norms[i];
      }
    }
  } finally {
    await s.release();
  }
  return out;
}
