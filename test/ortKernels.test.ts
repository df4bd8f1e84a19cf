/**
 * The fused onnxruntime products and norms the engine builds circuits and bounds from: the fused
 * products give the very float32 numbers of the plain ones (so reports cannot depend on which
 * ran), and norms summed in float32 are upper bounds within their stated margin.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { headCircuits } from "../src/core/circuits";
import { FactoredMatrix } from "../src/core/factored";
import { largestTwo } from "../src/core/normSplitBounds";
import { processWeights } from "../src/core/processing";
import { OrtBackend } from "../src/worker/ortBackend";
import { ortKernels } from "../src/worker/ortKernels";
import { randomWeights } from "./support/models";
import { gaussianFiller, mulberry32 } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

const bits = (a: ArrayLike<number>) => Array.from(a, (x) => (Object.is(x, -0) ? "-0" : String(x)));

test("circuits from the fused products (W_E·W_K minus the BOS row, Gemm with transA) are bit-identical to the plain products", async () => {
  const w = processWeights(randomWeights({ V: 1531, D: 48, H: 3, E: 8, L: 2, seed: 77, name: "fused" }));
  const plain = (a: Float32Array, b: Float32Array, m: number, k: number, n: number) => backend.matmul(a, b, m, k, n);
  for (const [layer, head, bos] of [
    [0, 0, 0],
    [1, 2, 1530],
    [1, 1, 17],
  ]) {
    const fused = await headCircuits(w, layer, head, bos, ortKernels(backend)),
      ref = await headCircuits(w, layer, head, bos, plain);
    for (const [name, got, want] of [
      ["QK queries", fused.qk.left, ref.qk.left],
      ["QK keys − BOS", fused.qk.right, ref.qk.right],
      ["BOS key", fused.bosKey, ref.bosKey],
      ["OV sources", fused.ov.left, ref.ov.left],
      ["OV outputs − mean", fused.ov.right, ref.ov.right],
      ["output mean", fused.outputMean, ref.outputMean],
    ] as const)
      assert.deepEqual(bits(got), bits(want), `L${layer}H${head}, BOS ${bos}: ${name}`);
  }
});

test("row norms summed in float32 by onnxruntime bound the float64 norms from above, within 4·10⁻⁶, odd rows included", async () => {
  // Tiny, long and overflowing rows.
  const fill = gaussianFiller(91),
    rows = 3000,
    r = 64,
    a = fill(new Float32Array(rows * r), 1);
  for (let i = 0; i < rows; i++) {
    // 1e-22: squares below float32's normal range; 1e25: squared norms past float32's largest value.
    const scale = i % 100 === 0 ? 1e-22 : i % 100 === 1 ? 1e15 : i % 100 === 2 ? 1e25 : 10 ** (4 * Math.sin(i));
    for (let e = 0; e < r; e++) a[i * r + e] *= scale;
  }
  a.fill(0, 5 * r, 6 * r); // a zero row
  const norms = await new FactoredMatrix(a, new Float32Array(r), rows, 1, r).leftNorms(ortKernels(backend));
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let e = 0; e < r; e++) s += a[i * r + e] ** 2;
    const exact = Math.sqrt(s);
    assert.ok(norms[i] >= exact, `row ${i}: ${norms[i]} below the norm ${exact}`);
    assert.ok(norms[i] <= exact * (1 + 4e-6) + 1e-18, `row ${i}: ${norms[i]} too far above the norm ${exact}`);
  }
});

test("the norm cut (h-th largest) and the longest norm below it, by quickselect, agree with a sort, ties included", () => {
  const rnd = mulberry32(5);
  for (const n of [1, 2, 7, 100, 5000]) {
    const a = Float64Array.from({ length: n }, () => Math.floor(rnd() * (n / 3 + 1))); // many ties
    const sorted = Float64Array.from(a).sort();
    for (const h of [0, 1, 2, Math.floor(n / 2), n - 1, n, n + 3]) {
      const want = {
        cut: h <= 0 ? Infinity : h >= n ? sorted[0] : sorted[n - h],
        next: h <= 0 ? Math.max(0, sorted[n - 1]) : h >= n ? 0 : Math.max(0, sorted[n - h - 1]),
      };
      assert.deepEqual(largestTwo(a, h), want, `n ${n}, h ${h}`);
    }
  }
});

test("the Gram kernel (one Gemm with transA) is AᵀA, within float32 rounding of the float64 product", async () => {
  const fill = gaussianFiller(93),
    n = 5000,
    r = 24,
    a = fill(new Float32Array(n * r), 1);
  for (let i = 0; i < n; i++) for (let e = 0; e < r; e++) a[i * r + e] *= 1 + e; // columns of different scales
  const g = await ortKernels(backend).gram!(a, n, r);
  assert.equal(g.length, r * r);
  for (let p = 0; p < r; p++)
    for (let q = 0; q < r; q++) {
      let s = 0,
        abs = 0;
      for (let i = 0; i < n; i++) {
        s += a[i * r + p] * a[i * r + q];
        abs += Math.abs(a[i * r + p] * a[i * r + q]);
      }
      // Any float32 summation order: |error| ≤ γ_n·Σ|products| (γ_n ≈ n·2⁻²⁴).
      assert.ok(Math.abs(g[p * r + q] - s) <= ((n * 2 ** -24) / (1 - n * 2 ** -24)) * abs, `G[${p}, ${q}] = ${g[p * r + q]}, float64 ${s}`);
    }
});
