/**
 * Rows for reports from a float32 GEMM plus exact recomputation inside the rounding band
 * (core/exactRows.ts) give exactly what the full float64 rows give: the same max, the same top and
 * bottom lists (ties to the lower index), the same counts — on random factors, on rows full of
 * exact ties (repeated embeddings) and on near-ties far below float32 resolution.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { exactRowFromDense, exactRows } from "../src/core/exactRows";
import { FactoredMatrix } from "../src/core/factored";
import { OrtBackend } from "../src/worker/ortBackend";
import { ortKernels } from "../src/worker/ortKernels";
import { gaussianFiller } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

async function same(m: FactoredMatrix, rows: number[], weights: Float64Array) {
  const fast = await exactRows(m, rows, ortKernels(backend));
  rows.forEach((i, n) => {
    const want = exactRowFromDense(m.row(i)),
      got = fast[n];
    assert.equal(got.max(), want.max(), `row ${i}: max`);
    for (const k of [1, 5, 20, 97]) {
      assert.deepEqual(got.top(k), want.top(k), `row ${i}: top ${k}`);
      assert.deepEqual(got.top(k, weights), want.top(k, weights), `row ${i}: weighted top ${k}`);
      assert.deepEqual(got.bottom(k), want.bottom(k), `row ${i}: bottom ${k}`);
    }
    for (const j of [0, 7, i % m.cols, want.top(3)[2]]) {
      assert.equal(got.at(j), want.at(j), `row ${i}: entry ${j}`);
      assert.equal(got.countAbove(want.at(j)), want.countAbove(want.at(j)), `row ${i}: count above entry ${j}`);
    }
  });
}

test("exact rows from a float32 pass equal full float64 rows: max, top, weighted top, bottom, counts", async () => {
  const fill = gaussianFiller(61),
    rows = 50,
    cols = 5000,
    k = 24;
  const m = new FactoredMatrix(fill(new Float32Array(rows * k), 1), fill(new Float32Array(cols * k), 1), rows, cols, k);
  const w = Float64Array.from(fill(new Float32Array(cols), 1), (x) => Math.exp(x));
  await same(m, [0, 3, 17, 49], w);
  await same(
    m.T,
    [0, 100, 4999],
    Float64Array.from(fill(new Float32Array(rows), 1), (x) => Math.abs(x)),
  );
});

test("exact ties (repeated columns) and near-ties below float32 resolution keep the exact order", async () => {
  const fill = gaussianFiller(62),
    rows = 20,
    cols = 3000,
    k = 16;
  const right = fill(new Float32Array(cols * k), 1);
  for (let j = 0; j < cols; j++) right.set(right.subarray((j % 40) * k, ((j % 40) + 1) * k), j * k); // 40 distinct columns, each 75 times
  for (let j = 1000; j < 1100; j++) right[j * k + 3] += 2 ** -20 * (j % 7); // differences far below float32's view of the sums
  const m = new FactoredMatrix(fill(new Float32Array(rows * k), 1), right, rows, cols, k);
  await same(
    m,
    [0, 5, 19],
    new Float64Array(cols).fill(0.5).map((x, j) => (j % 3 ? x : 1)),
  );
});

test("columns of very different lengths (trained-like tokens): each entry's band follows its own column, and the answers stay exact", async () => {
  const fill = gaussianFiller(63),
    rows = 12,
    cols = 4000,
    k = 16;
  const right = fill(new Float32Array(cols * k), 1);
  for (let j = 0; j < cols; j++) {
    const scale = 10 ** (3 * Math.sin(j)); // lengths from 10⁻³ to 10³
    for (let e = 0; e < k; e++) right[j * k + e] *= scale;
  }
  // Near-ties among short columns and among long ones, each far below float32's view of the sums.
  for (let j = 2000; j < 2040; j++) right.set(right.subarray(5 * k, 6 * k), j * k);
  for (let j = 2000; j < 2040; j++) right[j * k + 1] += 2 ** -30 * (j % 5);
  for (let j = 3000; j < 3010; j++) right.set(right.subarray(2 * k, 3 * k), j * k);
  const m = new FactoredMatrix(fill(new Float32Array(rows * k), 1), right, rows, cols, k);
  await same(
    m,
    [0, 4, 11],
    Float64Array.from(fill(new Float32Array(cols), 1), (x) => Math.exp(x)),
  );
});
