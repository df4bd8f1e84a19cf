/**
 * The cheap bounds on every row's max of a factored matrix (core/normSplitBounds.ts) hold: each
 * interval contains the exact (float64) max and the float32 max a dense pass computes, on the
 * inputs that stress each of its terms. Removing any term of the bound — the float32 rounding of
 * the exact part, the measured error of the balanced coordinates, the bound on the columns not
 * evaluated — makes one of these tests fail (checked by hand when the bound was written).
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { FactoredMatrix, ReductionKernels } from "../src/core/factored";
import { balancedMaps, normSplitPlan, normSplitRowMaxBounds } from "../src/core/normSplitBounds";
import { matmul } from "../src/core/tensor";
import { OrtBackend } from "../src/worker/ortBackend";
import { ortKernels } from "../src/worker/ortKernels";
import { gaussianFiller, mulberry32 } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());
const ctl = { check: () => {}, blockBytes: 1 << 20 };

/** Plain-JS kernels: float64-accumulated products, rounded to float32 like any kernel output. */
const jsKernels: ReductionKernels = {
  matmul,
  rowMax: async (x, y, rows, inner, cols) => {
    const p = matmul(x, y, rows, inner, cols),
      out = new Float32Array(rows).fill(-Infinity);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i] = Math.max(out[i], p[i * cols + j]);
    return out;
  },
};

/** max_j l_i·r_j in float64, and in float32 accumulation (what a float32 pass may return). */
function exactRowMax(l: Float32Array, rows: number, r: Float32Array, cols: number, k: number) {
  const f64 = new Float64Array(rows).fill(-Infinity),
    f32 = new Float64Array(rows).fill(-Infinity);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0,
        t = 0;
      for (let e = 0; e < k; e++) {
        s += l[i * k + e] * r[j * k + e];
        t = Math.fround(t + Math.fround(l[i * k + e] * r[j * k + e]));
      }
      f64[i] = Math.max(f64[i], s);
      f32[i] = Math.max(f32[i], t);
    }
  return { f64, f32 };
}

/** Factors shaped like trained weights: log-normal row norms, a few long outliers, a decaying spectrum. */
function trainedLike(n: number, k: number, seed: number, sigma = 0.5): Float32Array {
  const fill = gaussianFiller(seed),
    rnd = mulberry32(seed + 1),
    a = fill(new Float32Array(n * k), 1),
    z = fill(new Float32Array(n), 1);
  for (let i = 0; i < n; i++) {
    const scale = Math.exp(sigma * z[i]) * (rnd() < 0.003 ? 5 + 15 * rnd() : 1);
    for (let e = 0; e < k; e++) a[i * k + e] *= scale * Math.exp(-e / 6);
  }
  return a;
}

async function check(
  name: string,
  l: Float32Array,
  rows: number,
  r: Float32Array,
  cols: number,
  k: number,
  points: number,
  kernels: ReductionKernels,
) {
  const plan = await normSplitPlan(new FactoredMatrix(l, r, rows, cols, k), kernels);
  const b = await normSplitRowMaxBounds(plan, points, kernels, ctl);
  // The same bounds for a subset of rows, in its order.
  const ids = [rows - 1, 0, Math.floor(rows / 2)],
    sub = await normSplitRowMaxBounds(plan, points, kernels, ctl, ids);
  ids.forEach((id, i) => assert.ok(sub.lo[i] === b.lo[id] && sub.hi[i] === b.hi[id], `${name}: subset row ${id}`));
  const { f64, f32 } = exactRowMax(l, rows, r, cols, k);
  const dense = await new FactoredMatrix(l, r, rows, cols, k).rowMax(kernels, ctl); // the dense pass's own float32 max
  for (let i = 0; i < rows; i++) {
    for (const [what, v] of [
      ["exact", f64[i]],
      ["float32", f32[i]],
      ["dense pass", dense[i]],
    ] as const) {
      assert.ok(b.lo[i] <= v && v <= b.hi[i], `${name}, row ${i}: ${what} max ${v} outside [${b.lo[i]}, ${b.hi[i]}]`);
    }
  }
  return { ...b, exact: f64 };
}

const medianRatio = (hi: Float64Array, exact: Float64Array) => {
  const r = Array.from(hi, (h, i) => h / exact[i])
    .filter((x) => Number.isFinite(x) && x > 0)
    .sort((a, b) => a - b);
  return r[r.length >> 1];
};

describe("norm-split bounds on every row's max", () => {
  test("contain the exact and float32 maxima on Gaussian, trained-like and shifted factors, with both kernels", async () => {
    const fill = gaussianFiller(5);
    for (const kernels of [jsKernels, ortKernels(backend)]) {
      const rows = 300,
        cols = 2000,
        k = 16;
      await check("isotropic", fill(new Float32Array(rows * k), 1), rows, fill(new Float32Array(cols * k), 0.3), cols, k, 64, kernels);
      await check("trained-like", trainedLike(rows, k, 7), rows, trainedLike(cols, k, 8), cols, k, 64, kernels);
      // Every column shares one offset (the BOS shift of QK): one dominant singular direction.
      const shifted = fill(new Float32Array(cols * k), 1);
      for (let j = 0; j < cols; j++) for (let e = 0; e < k; e++) shifted[j * k + e] -= 3 * Math.cos(e);
      await check("shifted", fill(new Float32Array(rows * k), 1), rows, shifted, cols, k, 32, kernels);
    }
  });

  test("are tight on trained-like factors (what lets them prune) and never NaN", async () => {
    const rows = 400,
      cols = 3000,
      k = 16;
    const b = await check(
      "trained-like",
      trainedLike(rows, k, 11, 0.8),
      rows,
      trainedLike(cols, k, 12, 0.8),
      cols,
      k,
      128,
      ortKernels(backend),
    );
    assert.ok(medianRatio(b.hi, b.exact) < 1.6, `median hi/exact ${medianRatio(b.hi, b.exact)}`);
    for (let i = 0; i < rows; i++) assert.ok(!Number.isNaN(b.lo[i]) && !Number.isNaN(b.hi[i]));
  });

  test("hold at the edges: every column exact, none exact, zero and all-negative rows, a rank-deficient factor", async () => {
    const fill = gaussianFiller(21),
      rows = 60,
      cols = 500,
      k = 8,
      kernels = ortKernels(backend);
    const l = fill(new Float32Array(rows * k), 1),
      r = fill(new Float32Array(cols * k), 1);
    l.fill(0, 0, k); // a zero row: its max is exactly 0
    for (let j = 0; j < cols; j++) r[j * k] = Math.abs(r[j * k]) + 4; // every column leans one way...
    for (let e = 0; e < k; e++) l[k + e] = e === 0 ? -2 : 0; // ...so this row's products are all negative
    const all = await check("all columns exact", l, rows, r, cols, k, cols, kernels);
    assert.ok(all.hi[1] < 0, "an all-negative row keeps a negative upper bound when every column is exact");
    await check("no column exact", l, rows, r, cols, k, 0, kernels);
    const flat = Float32Array.from(r);
    for (let j = 0; j < cols; j++) flat[j * k + k - 1] = 0; // rank k − 1: no balanced coordinates, original ones
    await check("rank-deficient", l, rows, flat, cols, k, 16, kernels);
  });

  test("balanced coordinates: every product within the measured error κ, and κ tiny", async () => {
    const rows = 200,
      cols = 700,
      k = 12;
    const l = trainedLike(rows, k, 31),
      r = trainedLike(cols, k, 32);
    const b = await balancedMaps(l, r, rows, cols, k, jsKernels);
    assert.ok(b, "a full-rank pair has balanced coordinates");
    const bl = matmul(l, b.a, rows, k, k),
      br = matmul(r, b.b, cols, k, k);
    assert.ok(b.kappa < 1e-4, `κ = ${b.kappa}`); // mostly the a-priori float32 bound (2γ‖A‖‖B‖), not the actual error
    const norm = (a: Float32Array, i: number) => Math.hypot(...a.subarray(i * k, (i + 1) * k));
    let worst = 0;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        let x = 0,
          y = 0;
        for (let e = 0; e < k; e++) {
          x += l[i * k + e] * r[j * k + e];
          y += bl[i * k + e] * br[j * k + e];
        }
        worst = Math.max(worst, Math.abs(x - y) / (norm(l, i) * norm(r, j)));
      }
    assert.ok(worst <= b.kappa, `worst relative error ${worst} > κ ${b.kappa}`);
  });

  test("hold when a few rows and columns are so long that their float32 squared norms overflow", async () => {
    const fill = gaussianFiller(41),
      rows = 200,
      cols = 1500,
      k = 16,
      kernels = ortKernels(backend);
    const l = fill(new Float32Array(rows * k), 1),
      r = fill(new Float32Array(cols * k), 1);
    for (const i of [3, 77]) for (let e = 0; e < k; e++) l[i * k + e] *= 1e20;
    for (const j of [5, 900]) for (let e = 0; e < k; e++) r[j * k + e] *= 1e17;
    const b = await check("overflowing norms", l, rows, r, cols, k, 32, kernels);
    for (let i = 0; i < rows; i++)
      assert.ok(!Number.isNaN(b.lo[i]) && !Number.isNaN(b.hi[i]) && Number.isFinite(b.hi[i]), `row ${i}: [${b.lo[i]}, ${b.hi[i]}]`);
  });

  test("the Cauchy–Schwarz tail is attained: rows equal to the longest columns not evaluated exactly", async () => {
    const fill = gaussianFiller(51),
      rows = 400,
      cols = 4000,
      k = 16,
      points = 64;
    const r = fill(new Float32Array(cols * k), 1),
      l = fill(new Float32Array(rows * k), 1);
    // Columns 0..199 get well separated lengths 12, 11.95, …; the rest stay near 4. Rows 0..19 copy
    // columns 55..74: each row's max is its own column, whose length is near the tail's ρ.
    for (let j = 0; j < 200; j++) {
      const n = Math.hypot(...r.subarray(j * k, (j + 1) * k)),
        f = (12 - 0.05 * j) / n;
      for (let e = 0; e < k; e++) r[j * k + e] *= f;
    }
    for (let i = 0; i < 20; i++) l.set(r.subarray((55 + i) * k, (56 + i) * k), i * k);
    await check("tail attained", l, rows, r, cols, k, points, ortKernels(backend));
  });
});
