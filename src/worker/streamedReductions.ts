/**
 * Row maxima and row counts of a product streamed in blocks of rows on onnxruntime: only one
 * block's slab of the product exists at a time (what bounds peak memory independently of V), each
 * reduced along its contiguous axis inside the graph. The kernels core code calls (ortKernels.ts)
 * are built on these.
 */
import type * as Ort from "onnxruntime-node";
import { transpose2d } from "../core/tensor";
import { ElemType, Graph } from "./onnxModel";
import { CancelCheck, OrtBackend } from "./ortBackend";

/**
 * Where the block of rows from `start` ends: a remainder of one row joins the block before it is cut
 * short, so no block is a single row (a 1-row product takes onnxruntime's GEMV kernel, whose float32
 * sums round differently from the blocked GEMM's: a row's max must not depend on where it fell).
 */
export function blockEnd(start: number, rows: number, blockRows: number): number {
  const end = Math.min(rows, start + blockRows);
  return rows - end === 1 && end - start > 1 ? end - 1 : end;
}

export interface RowMaxSession {
  run(x: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * out[i] = max_j x_i·y_j for X [rows, inner] and Y [cols, inner] both as inputs (one cached
 * session, Gemm with transB: no transpose, no per-matrix session), in blocks of `blockRows` rows.
 */
export async function rowMaxOfRows(
  be: OrtBackend,
  x: Float32Array,
  rows: number,
  y: Float32Array,
  cols: number,
  inner: number,
  blockRows: number,
  check: CancelCheck,
): Promise<Float32Array> {
  const s = await be.cachedSession("rowmaxT", () => ({
    name: "rowmaxT",
    inputs: [
      { name: "X", type: ElemType.FLOAT, dims: ["b", "k"] },
      { name: "Y", type: ElemType.FLOAT, dims: ["n", "k"] },
    ],
    outputs: [{ name: "M", type: ElemType.FLOAT, dims: ["b"] }],
    nodes: [
      { op: "Gemm", inputs: ["X", "Y"], outputs: ["P"], attributes: [{ name: "transB", int: 1 }] },
      {
        op: "ReduceMax",
        inputs: ["P"],
        outputs: ["M"],
        attributes: [
          { name: "axes", ints: [1] },
          { name: "keepdims", int: 0 },
        ],
      },
    ],
  }));
  const out = new Float32Array(rows),
    yt = be.tensor("float32", y, [cols, inner]);
  for (let start = 0, end = 0; start < rows; start = end) {
    check();
    end = blockEnd(start, rows, blockRows);
    out.set(
      (await s.run({ X: be.tensor("float32", x.subarray(start * inner, end * inner), [end - start, inner]), Y: yt })).M
        .data as Float32Array,
      start,
    );
  }
  return out;
}

/**
 * A session computing out[i] = max_j (X · M)[i, j] for any block of rows X (b × inner), with
 * M (inner × cols) baked in as a constant so onnxruntime packs it for its GEMM kernel once, not
 * once per block (measured ≈15–25 % faster at 64-row blocks). Release it when done.
 */
export async function rowMaxSession(be: OrtBackend, m: Float32Array, inner: number, cols: number): Promise<RowMaxSession> {
  const graph: Graph = {
    name: "rowmax",
    inputs: [{ name: "X", type: ElemType.FLOAT, dims: ["b", inner] }],
    outputs: [{ name: "Y", type: ElemType.FLOAT, dims: ["b"] }],
    nodes: [
      { op: "MatMul", inputs: ["X", "M"], outputs: ["P"] },
      {
        op: "ReduceMax",
        inputs: ["P"],
        outputs: ["Y"],
        attributes: [
          { name: "axes", ints: [1] },
          { name: "keepdims", int: 0 },
        ],
      },
    ],
    initializers: [{ name: "M", type: ElemType.FLOAT, dims: [inner, cols], raw: new Uint8Array(m.buffer, m.byteOffset, m.byteLength) }],
  };
  const s = await be.createSession(graph);
  return {
    run: async (x: Float32Array, rows: number) => (await s.run({ X: be.tensor("float32", x, [rows, inner]) })).Y.data as Float32Array,
    release: () => s.release(),
  };
}

/**
 * out[i] = max_j (X · M)[i, j] for X = rows × inner and M = inner × cols, streamed in blocks of
 * `blockRows` rows so that only a blockRows × cols slab exists at a time, each reduced along its
 * contiguous (last) axis.
 */
export async function blockedRowMax(
  be: OrtBackend,
  x: Float32Array,
  m: Float32Array,
  rows: number,
  inner: number,
  cols: number,
  blockRows: number,
  check: CancelCheck,
  onBlock?: (done: number) => void,
): Promise<Float32Array> {
  const s = await rowMaxSession(be, m, inner, cols);
  try {
    const out = new Float32Array(rows);
    for (let start = 0, end = 0; start < rows; start = end) {
      check();
      end = blockEnd(start, rows, blockRows);
      out.set(await s.run(x.subarray(start * inner, end * inner), end - start), start);
      onBlock?.(end);
    }
    return out;
  } finally {
    await s.release();
  }
}

/**
 * Row counts against per-row thresholds and column maxima of X·Yᵀ (X rows × inner, baked in once;
 * Y cols × inner, streamed in blocks of its rows). Each block is the slab (Y_block · Xᵀ), a column
 * block of X·Yᵀ laid out with X's rows contiguous, so both reductions are cheap ones: a column's
 * max is a contiguous ReduceMax, and a row's counts are a column sum of the block's comparisons,
 * done as a uint8 MatMulInteger with a row of ones (measured ≈ 1.7 plain passes against ≈ 2.3 for
 * ReduceSum over float casts in the other orientation, whose column max runs over the strided axis).
 * Counts are int32 sums the caller adds up over blocks: exact for any size.
 */
export async function columnBlockCountSession(
  be: OrtBackend,
  x: Float32Array,
  rows: number,
  inner: number,
  lo: Float32Array,
  hi: Float32Array,
  // On the CPU the counts are uint8 GEMVs; other providers get float sums (onnxruntime's CUDA MatMulInteger is int8 × int8 only).
  uint8 = be.ep === "cpu",
): Promise<{
  run(y: Float32Array, cols: number): Promise<{ above: Int32Array; atLeast: Int32Array; colMax: Float32Array }>;
  release(): Promise<void>;
}> {
  const xt = transpose2d(x, rows, inner);
  const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const countOf = (compare: string, threshold: string, out: string) => [
    { op: compare, inputs: ["P", threshold], outputs: [`${out}_b`] },
    { op: "Cast", inputs: [`${out}_b`], outputs: [`${out}_c`], attributes: [{ name: "to", int: uint8 ? ElemType.UINT8 : ElemType.FLOAT }] },
    uint8
      ? { op: "MatMulInteger", inputs: ["ONES", `${out}_c`], outputs: [out] }
      : { op: "ReduceSum", inputs: [`${out}_c`, "AXIS0"], outputs: [out], attributes: [{ name: "keepdims", int: 1 }] },
  ];
  const countType = uint8 ? ElemType.INT32 : ElemType.FLOAT;
  const graph: Graph = {
    name: "columncounts",
    inputs: [
      { name: "Y", type: ElemType.FLOAT, dims: ["b", inner] },
      ...(uint8 ? [{ name: "ONES", type: ElemType.UINT8, dims: [1, "b"] }] : []),
    ],
    outputs: [
      { name: "ABOVE", type: countType, dims: [1, rows] },
      { name: "ATLEAST", type: countType, dims: [1, rows] },
      { name: "COLMAX", type: ElemType.FLOAT, dims: ["b"] },
    ],
    nodes: [
      { op: "MatMul", inputs: ["Y", "XT"], outputs: ["P"] },
      {
        op: "ReduceMax",
        inputs: ["P"],
        outputs: ["COLMAX"],
        attributes: [
          { name: "axes", ints: [1] },
          { name: "keepdims", int: 0 },
        ],
      },
      ...countOf("Greater", "HI", "ABOVE"),
      ...countOf("GreaterOrEqual", "LO", "ATLEAST"),
    ],
    initializers: [
      { name: "XT", type: ElemType.FLOAT, dims: [inner, rows], raw: bytes(xt) },
      { name: "LO", type: ElemType.FLOAT, dims: [1, rows], raw: bytes(lo) },
      { name: "HI", type: ElemType.FLOAT, dims: [1, rows], raw: bytes(hi) },
      ...(uint8 ? [] : [{ name: "AXIS0", type: ElemType.INT64, dims: [1], raw: new Uint8Array(BigInt64Array.from([0n]).buffer) }]),
    ],
  };
  const s = await be.createSession(graph);
  let ones = new Uint8Array(0);
  return {
    run: async (y, cols) => {
      if (uint8 && ones.length !== cols) ones = new Uint8Array(cols).fill(1);
      const feeds = { Y: be.tensor("float32", y, [cols, inner]), ...(uint8 ? { ONES: be.tensor("uint8", ones, [1, cols]) } : {}) };
      const r = await s.run(feeds);
      const count = (t: Ort.Tensor) => (uint8 ? (t.data as Int32Array) : Int32Array.from(t.data as Float32Array)); // float sums of ≤ b ones: exact
      return { above: count(r.ABOVE), atLeast: count(r.ATLEAST), colMax: r.COLMAX.data as Float32Array };
    },
    release: () => s.release(),
  };
}
