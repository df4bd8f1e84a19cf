/** The factored matrix's operations agree with the dense matrices they stand for. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { complexEigenvalues, symmetricEigen } from "../src/core/eig";
import { FactoredMatrix, ReductionKernels } from "../src/core/factored";
import { matmul } from "../src/core/tensor";
import { gaussianFiller } from "./support/random";

const fill = gaussianFiller(17);
const rand = (n: number) => fill(new Float32Array(n), 1);
const dense = (m: FactoredMatrix): number[][] => Array.from({ length: m.rows }, (_, i) => Array.from(m.row(i)));
const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
function denseProduct(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)));
}
const jsKernels: ReductionKernels = {
  matmul,
  rowMax: async (x, y, rows, inner, cols, ctl) => {
    const out = new Float32Array(rows);
    const p = matmul(x, y, rows, inner, cols);
    for (let i = 0; i < rows; i++) {
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, p[i * cols + j]);
      out[i] = m;
      ctl.progress?.(i + 1);
    }
    return out;
  },
};

test("products with dense matrices and with other factored matrices equal the dense products", async () => {
  const a = new FactoredMatrix(rand(7 * 3), rand(5 * 3), 7, 5, 3); // 7×5, rank 3
  const b = new FactoredMatrix(rand(5 * 2), rand(6 * 2), 5, 6, 2); // 5×6, rank 2
  const ab = await a.compose(b);
  assert.equal(ab.rank, 2, "the lower rank is kept");
  const ref = denseProduct(dense(a), dense(b));
  dense(ab).forEach((row, i) => row.forEach((x, j) => near(x, ref[i][j], 1e-5, `AB[${i},${j}]`)));
  const ba = await new FactoredMatrix(rand(6 * 4), rand(7 * 4), 6, 7, 4).compose(a);
  assert.equal(ba.rank, 3);
  const left = rand(4 * 7);
  const pre = await a.premultiply(left, 4);
  const leftRows = Array.from({ length: 4 }, (_, i) => Array.from(left.subarray(i * 7, i * 7 + 7)));
  const refPre = denseProduct(leftRows, dense(a));
  dense(pre).forEach((row, i) => row.forEach((x, j) => near(x, refPre[i][j], 1e-5, "premultiply")));
  const right = rand(5 * 3);
  const post = await a.postmultiply(right, 3);
  const rightRows = Array.from({ length: 5 }, (_, i) => Array.from(right.subarray(i * 3, i * 3 + 3)));
  const refPost = denseProduct(dense(a), rightRows);
  dense(post).forEach((row, i) => row.forEach((x, j) => near(x, refPost[i][j], 1e-5, "postmultiply")));
  const postT = await a.postmultiplyTransposed(right.subarray(0, 3 * 5), 3);
  const refPostT = denseProduct(
    dense(a),
    Array.from({ length: 5 }, (_, k) => Array.from({ length: 3 }, (_, j) => right[j * 5 + k])),
  );
  dense(postT).forEach((row, i) => row.forEach((x, j) => near(x, refPostT[i][j], 1e-5, "postmultiplyTransposed")));
});

test("normalizations, transpose, norm and streamed maxima match the dense matrix", async () => {
  const m = new FactoredMatrix(rand(9 * 4), rand(11 * 4), 9, 11, 4);
  const d = dense(m);
  const bos = dense(m.minusColumn(3));
  bos.forEach((row, i) => row.forEach((x, j) => near(x, d[i][j] - d[i][3], 1e-5, "minus column")));
  const { matrix } = m.rowCentered();
  dense(matrix).forEach((row) =>
    near(
      row.reduce((s, x) => s + x, 0),
      0,
      1e-5,
      "centred row sum",
    ),
  );
  dense(m.T).forEach((row, j) => row.forEach((x, i) => near(x, d[i][j], 1e-6, "transpose")));
  near(m.frobeniusNorm(), Math.sqrt(d.flat().reduce((s, x) => s + x * x, 0)), 1e-9, "Frobenius norm");
  const ctl = { check: () => {}, blockBytes: 1 << 20 };
  const rowMax = await m.rowMax(jsKernels, ctl),
    colMax = await m.colMax(jsKernels, ctl);
  d.forEach((row, i) => near(rowMax[i], Math.max(...row), 1e-5, "row max"));
  for (let j = 0; j < 11; j++) near(colMax[j], Math.max(...d.map((r) => r[j])), 1e-5, "column max");
});

test("eigenvalues come from the small rank × rank product and match the dense matrix's nonzero ones", () => {
  // A = L Rᵀ (6×6, rank 3): nonzero eigenvalues of A are those of Rᵀ L; their sum is trace(A).
  const m = new FactoredMatrix(rand(6 * 3), rand(6 * 3), 6, 6, 3);
  const ev = m.eigenvalues();
  assert.equal(ev.length, 3);
  const d = dense(m);
  near(
    ev.reduce((s, e) => s + e.re, 0),
    d.reduce((s, r, i) => s + r[i], 0),
    1e-9,
    "sum = trace",
  );
  near(
    ev.reduce((s, e) => s + e.im, 0),
    0,
    1e-9,
    "complex eigenvalues come in conjugate pairs",
  );
  // trace(A²) = Σλ² (real part).
  const a2 = denseProduct(d, d);
  const sumSq = ev.reduce((s, e) => s + e.re * e.re - e.im * e.im, 0);
  near(
    sumSq,
    a2.reduce((s, r, i) => s + r[i], 0),
    1e-8,
    "Σλ² = trace(A²)",
  );
});

test("the eigenvalue solver on matrices with known spectra", () => {
  const sorted = (m: number[], n: number) =>
    complexEigenvalues(m, n)
      .map((e) => [+e.re.toFixed(9), +Math.abs(e.im).toFixed(9)])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual(
    sorted([0, -1, 1, 0], 2),
    [
      [0, 1],
      [0, 1],
    ],
    "a rotation by 90°: ±i",
  );
  assert.deepEqual(
    sorted([2, 5, 7, 0, 3, 1, 0, 0, -4], 3),
    [
      [-4, 0],
      [2, 0],
      [3, 0],
    ],
    "triangular: the diagonal",
  );
  // Companion matrix of (x−1)(x−2)(x−3)(x−4) = x⁴ − 10x³ + 35x² − 50x + 24.
  assert.deepEqual(sorted([10, -35, 50, -24, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], 4), [
    [1, 0],
    [2, 0],
    [3, 0],
    [4, 0],
  ]);
  assert.deepEqual(
    sorted(new Array(9).fill(0), 3),
    [
      [0, 0],
      [0, 0],
      [0, 0],
    ],
    "the zero matrix",
  );
  assert.throws(() => complexEigenvalues([NaN], 1), /NaN/);
});

test("symmetric eigen-decomposition: A·v = λ·v with orthonormal v, descending λ, on random and degenerate matrices", () => {
  const check = (m: number[], n: number) => {
    const { values, vectors } = symmetricEigen(m, n);
    for (let c = 0; c < n; c++) {
      if (c > 0) assert.ok(values[c] <= values[c - 1], "descending");
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += m[i * n + k] * vectors[k * n + c];
        near(av, values[c] * vectors[i * n + c], 1e-10, `(Av)[${i}] for λ${c}`);
      }
      for (let c2 = 0; c2 <= c; c2++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += vectors[k * n + c] * vectors[k * n + c2];
        near(dot, c === c2 ? 1 : 0, 1e-10, "orthonormal");
      }
    }
    return values;
  };
  const r = rand(64 * 64),
    sym = Array.from({ length: 64 * 64 }, (_, x) => r[x] + r[(x % 64) * 64 + Math.floor(x / 64)]);
  check(sym, 64);
  assert.deepEqual(
    check([3, 0, 0, 0, 1, 0, 0, 0, 2], 3).map((x) => +x.toFixed(12)),
    [3, 2, 1],
    "diagonal",
  );
  assert.deepEqual(
    check([2, 0, 0, 2], 2).map((x) => +x.toFixed(12)),
    [2, 2],
    "repeated",
  );
  check(new Array(16).fill(0), 4);
  check([1, 1, 1, 1], 2);
});
