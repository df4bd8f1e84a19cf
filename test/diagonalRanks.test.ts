/**
 * Diagonal ranks (a composition path's induction signature, core/diagonalRanks.ts): the float32
 * pass brackets every rank, resolved rows equal counting the full float64 row, and the statistics
 * (median rank, shares at rank 0 and below 10) are exact while resolving only the rows they depend
 * on — also where nearly every row has entries inside the float32 rounding band of its diagonal
 * (near-ties one float32 ulp apart, exact ties, the bulk of isotropic random rows).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { diagonalStats } from "../src/core/diagonalRanks";
import { FactoredMatrix } from "../src/core/factored";
import { OrtBackend } from "../src/worker/ortBackend";
import { ortKernels } from "../src/worker/ortKernels";
import { columnBlockCountSession } from "../src/worker/streamedReductions";
import { gaussianFiller } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

function ranks64(m: FactoredMatrix): Int32Array {
  return Int32Array.from({ length: m.rows }, (_, i) => {
    const row = m.row(i);
    return row.filter((x) => x > row[i]).length;
  });
}

async function check(m: FactoredMatrix, blockBytes: number): Promise<number> {
  const want = ranks64(m),
    n = m.rows,
    ctl = { check: () => {}, blockBytes };
  const d = await m.diagonalRanks(ortKernels(backend), ctl);
  for (let j = 0; j < m.cols; j++) {
    const want = Math.max(...m.col(j));
    assert.ok(Math.abs(d.colMax[j] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `column ${j} max ${d.colMax[j]} vs ${want}`);
  }
  want.forEach((x, i) => assert.ok(d.lower[i] <= x && x <= d.upper[i], `row ${i}: rank ${x} in [${d.lower[i]}, ${d.upper[i]}]`));
  const unsure = want.filter((_, i) => d.lower[i] !== d.upper[i]).length;
  const resolved = { rows: 0 },
    counting = { ...d, resolve: (rows: number[]) => ((resolved.rows += rows.length), d.resolve(rows)) };
  const sorted = Int32Array.from(want).sort(),
    share = (t: number) => want.filter((x) => x < t).length / n;
  assert.deepEqual(
    await diagonalStats(counting),
    { medianRank: sorted[Math.floor((n - 1) / 2)], top1: share(1), top10: share(10) },
    "statistics, exactly",
  );
  const all = Array.from({ length: n }, (_, i) => i);
  await d.resolve(all);
  assert.deepEqual(Array.from(d.lower), Array.from(want), "resolved rows equal float64 counting");
  assert.deepEqual(Array.from(d.upper), Array.from(want));
  return resolved.rows / Math.max(1, unsure);
}

test("diagonal ranks are exact where every row has near-ties with its diagonal (one float32 ulp apart)", async () => {
  // Groups of 6 columns: copies of one vector, each nudged by ±1 ulp in one coordinate (and one
  // exact copy). M = R·Rᵀ, so every diagonal has 5 neighbours far inside float32's rounding band.
  const fill = gaussianFiller(7),
    groups = 60,
    size = 6,
    r = 16,
    n = groups * size;
  const base = fill(new Float32Array(groups * r), 1),
    right = new Float32Array(n * r);
  for (let g = 0; g < groups; g++)
    for (let c = 0; c < size; c++) {
      const j = g * size + c;
      right.set(base.subarray(g * r, (g + 1) * r), j * r);
      const x = right[j * r + (c % r)],
        ulp = Math.abs(Math.fround(x * (1 + 2 ** -23)) - x) || 2 ** -149;
      if (c > 0 && c < size - 1) right[j * r + (c % r)] = Math.fround(x + (c % 2 ? ulp : -ulp));
    }
  const m = new FactoredMatrix(right, Float32Array.from(right), n, n, r);
  const want = ranks64(m);
  assert.ok(
    want.some((x, i) => x !== want[i - (i % size)]),
    "the test really has near-ties that float64 orders",
  );
  await check(m, 4 * n * 7); // 7 rows per block: resolved rows are recounted over several blocks
});

test("on isotropic random factors, whose diagonals sit in the bulk of their rows, the statistics resolve few of the unsure rows", async () => {
  const fill = gaussianFiller(13),
    n = 3000,
    r = 32;
  const m = new FactoredMatrix(fill(new Float32Array(n * r), 1), fill(new Float32Array(n * r), 1), n, n, r);
  const share = await check(m, 12 << 20);
  assert.ok(share < 0.1, `resolved ${(100 * share).toFixed(1)} % of the unsure rows`);
});

test("the count graph of other providers (float sums) counts what the CPU's (uint8 GEMVs) does, in blocks of any size", async () => {
  const fill = gaussianFiller(11),
    rows = 301,
    cols = 257,
    r = 8;
  const x = fill(new Float32Array(rows * r), 1),
    y = fill(new Float32Array(cols * r), 1),
    lo = fill(new Float32Array(rows), 0.5),
    hi = lo.map((v, i) => v + (i % 3) * 0.1);
  const want = { above: new Int32Array(rows), atLeast: new Int32Array(rows) },
    near = new Uint8Array(rows); // rows with an entry within float32 reach of a threshold: left out of the comparison
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += x[i * r + k] * y[j * r + k];
      if (d > hi[i]) want.above[i]++;
      if (d >= lo[i]) want.atLeast[i]++;
      if (Math.min(Math.abs(d - hi[i]), Math.abs(d - lo[i])) < 1e-4) near[i] = 1;
    }
  assert.ok(near.reduce((a, b) => a + b, 0) < rows / 4, "most rows are compared");
  for (const uint8 of [true, false]) {
    const s = await columnBlockCountSession(backend, x, rows, r, lo, hi, uint8);
    try {
      const got = { above: new Int32Array(rows), atLeast: new Int32Array(rows) };
      for (let start = 0; start < cols; start += 100) {
        const n = Math.min(100, cols - start),
          b = await s.run(y.subarray(start * r, (start + n) * r), n);
        b.above.forEach((v, i) => (got.above[i] += v));
        b.atLeast.forEach((v, i) => (got.atLeast[i] += v));
      }
      for (let i = 0; i < rows; i++)
        if (!near[i]) {
          assert.equal(got.above[i], want.above[i], `uint8 ${uint8}, row ${i}: above`);
          assert.equal(got.atLeast[i], want.atLeast[i], `uint8 ${uint8}, row ${i}: at least`);
        }
    } finally {
      await s.release();
    }
  }
});
