import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { int8RowMaxBounds } from "../src/worker/int8Bounds";
import { OrtBackend } from "../src/worker/ortBackend";
import { gaussianFiller } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

/** max_j x_i·y_j in float64, the quantity the bounds must contain. */
function exactRowMax(x: Float32Array, rows: number, y: Float32Array, cols: number, dim: number): Float64Array {
  const out = new Float64Array(rows).fill(-Infinity);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let e = 0; e < dim; e++) s += x[i * dim + e] * y[j * dim + e];
      if (s > out[i]) out[i] = s;
    }
  }
  return out;
}

const norm = (a: Float32Array, i: number, dim: number) => Math.hypot(...a.subarray(i * dim, (i + 1) * dim));

async function check(x: Float32Array, rows: number, y: Float32Array, cols: number, dim: number, blockRows = 7) {
  const b = await int8RowMaxBounds(backend, x, rows, y, cols, dim, blockRows, () => {});
  const exact = exactRowMax(x, rows, y, cols, dim);
  for (let i = 0; i < rows; i++) {
    assert.ok(b.lo[i] <= exact[i] && exact[i] <= b.hi[i], `row ${i}: ${exact[i]} outside [${b.lo[i]}, ${b.hi[i]}]`);
  }
  return { ...b, exact };
}

describe("int8 bounds on max_j x_i·y_j", () => {
  test("contain the exact maximum of every row, and are tight enough to prune on (random Gaussian)", async () => {
    for (const [dim, seed, cols] of [
      [8, 1, 500],
      [32, 2, 500],
      [64, 3, 500],
      [16, 4, 1300],
    ]) {
      // 1300: three column chunks, the last partial
      const rows = 300;
      const x = gaussianFiller(seed)(new Float32Array(rows * dim), 1);
      const y = gaussianFiller(seed + 10)(new Float32Array(cols * dim), 0.3);
      const { lo, hi } = await check(x, rows, y, cols, dim);
      let maxY = 0;
      for (let j = 0; j < cols; j++) maxY = Math.max(maxY, norm(y, j, dim));
      for (let i = 0; i < rows; i++) {
        // Half-width under 3 % of ‖x‖·max‖y‖: the key's max itself is ≈ 40–60 % of that.
        assert.ok((hi[i] - lo[i]) / 2 < 0.03 * norm(x, i, dim) * maxY, `dim ${dim} row ${i}: width ${hi[i] - lo[i]}`);
      }
    }
  });

  test("hold on awkward inputs: zero rows, an outlier coordinate, all-negative products, a zero point set", async () => {
    const dim = 16,
      rows = 40,
      cols = 64;
    const x = gaussianFiller(5)(new Float32Array(rows * dim), 1);
    x.fill(0, 0, dim); // a zero row: max is exactly 0
    x[3 * dim + 2] = 1e4; // one huge coordinate: its row's scale is dominated by it
    const y = gaussianFiller(6)(new Float32Array(cols * dim), 1);
    for (let j = 0; j < cols; j++) y[j * dim] = Math.abs(y[j * dim]) + 5; // every y leans one way
    for (let e = 0; e < dim; e++) x[7 * dim + e] = e === 0 ? -3 : 0; // so this row's products are all negative
    const r = await check(x, rows, y, cols, dim);
    assert.equal(r.lo[0], 0);
    assert.equal(r.hi[0], 0);
    assert.ok(r.hi[7] < 0, "an all-negative row keeps a negative upper bound");
    await check(x, rows, new Float32Array(cols * dim), cols, dim); // all y zero: every max is 0
  });
});
