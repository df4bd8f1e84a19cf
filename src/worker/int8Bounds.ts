/**
 * Rigorous intervals for max_j x_i·y_j (every row x_i against a fixed point set y_j) from one int8
 * pass on onnxruntime (MatMulInteger + ReduceMax, ≈ 1.7× the float32 pass on AVX-512 VNNI).
 *
 * y is quantized with one scale s_y (a per-column scale would not factor out of the max over j),
 * each x_i with its own scale s_i (it does): x'_i = s_i·x̃_i, y'_j = s_y·ỹ_j with integer x̃, ỹ, and
 * x̃_i·ỹ_j is computed exactly in int32. With δx = x − x', δy = y − y':
 *   |x·y − x'·y'| = |δx·y + x'·δy| ≤ ‖δx‖·max_j‖y_j‖ + ‖x'‖·max_j‖δy_j‖ =: ε_i
 * so max_j x_i·y_j lies in [s_i·s_y·max_j x̃_i·ỹ_j − ε_i, … + ε_i]. The norms are taken in float64 on
 * the actual rounding errors; a relative slack covers the float32 evaluation that later decides.
 */
import { ElemType, Graph } from "./onnxModel";
import { CancelCheck, OrtBackend } from "./ortBackend";

export interface RowMaxBounds {
  lo: Float64Array;
  hi: Float64Array;
}

/** Float32 evaluation of a 64-term dot product is off by at most ≈ 64·2⁻²⁴·‖x‖‖y‖; 1e-5 covers d_head ≤ 160. */
const FLOAT32_SLACK = 1e-5;
/** x is fed as uint8 with zero point 128: x̃ ∈ [−127, 127]. */
const X_ZERO_POINT = 128;

/**
 * Largest |ỹ| for which the int8 product is exact on this machine. AVX2 kernels without VNNI
 * (vpmaddubsw) saturate u8·s8 pair sums at int16, so there ỹ must stay within ±63 (ONNX Runtime's
 * "reduce_range"); VNNI and ARM dot-product kernels accumulate in int32. Probed, not guessed.
 */
function weightRange(backend: OrtBackend): Promise<number> {
  let range = probed.get(backend);
  if (!range) probed.set(backend, (range = probeWeightRange(backend)));
  return range;
}
const probed = new WeakMap<OrtBackend, Promise<number>>();

async function probeWeightRange(backend: OrtBackend): Promise<number> {
  const s = await backend.createSession(int8Graph([new Int8Array([127, 127])], 2));
  try {
    const y = await s.run({ X: backend.tensor("uint8", new Uint8Array([255, 255]), [1, 2]) });
    const exact = (255 - X_ZERO_POINT) * 127 * 2;
    return (y.Y.data as Int32Array)[0] === exact ? 127 : 63;
  } finally {
    await s.release();
  }
}

/**
 * Columns per MatMulInteger node. One node per 512 columns keeps each node's int32 slab (rows ×
 * 512 × 4 bytes) in L2 between the GEMM that writes it and the ReduceMax that reads it, and the
 * int8 panel of the points in L1: ≈ 1.7× faster than one node over all 48k columns on this
 * machine (bench/int8Kernel.ts: 2.2–2.5× the float32 pass instead of 1.1–1.35×).
 */
export const CHUNK_COLS = 512;

/** Row max of X·W for W given as column chunks [dim, width_c] (int8), X uint8 with zero point 128. */
function int8Graph(chunks: Int8Array[], dim: number): Graph {
  const nodes: Graph["nodes"] = [],
    parts: string[] = [];
  chunks.forEach((_, c) => {
    nodes.push({ op: "MatMulInteger", inputs: ["X", `W${c}`, "XZ"], outputs: [`P${c}`] });
    nodes.push({
      op: "ReduceMax",
      inputs: [`P${c}`],
      outputs: [chunks.length === 1 ? "Y" : `R${c}`],
      attributes: [
        { name: "axes", ints: [1] },
        { name: "keepdims", int: 0 },
      ],
    });
    parts.push(`R${c}`);
  });
  if (chunks.length > 1) nodes.push({ op: "Max", inputs: parts, outputs: ["Y"] });
  return {
    name: "int8rowmax",
    inputs: [{ name: "X", type: ElemType.UINT8, dims: ["b", dim] }],
    outputs: [{ name: "Y", type: ElemType.INT32, dims: ["b"] }],
    nodes,
    initializers: [
      ...chunks.map((w, c) => ({
        name: `W${c}`,
        type: ElemType.INT8,
        dims: [dim, w.length / dim],
        raw: new Uint8Array(w.buffer, w.byteOffset, w.byteLength),
      })),
      { name: "XZ", type: ElemType.UINT8, dims: [], raw: new Uint8Array([X_ZERO_POINT]) },
    ],
  };
}

/** Squared norms of the last vector `quantize` saw: the vector, its rounding error, its dequantized value. */
const sq = { norm: 0, err: 0, quant: 0 };

/**
 * Writes round(v/scale), clamped to ±range, plus `zeroPoint` for the dim entries of v at `off`
 * into out[outOff + e·outStride], and leaves the squared norms in `sq`.
 */
function quantize(
  v: Float32Array,
  off: number,
  dim: number,
  scale: number,
  range: number,
  out: Int8Array | Uint8Array,
  outOff: number,
  outStride: number,
  zeroPoint: number,
): void {
  const inv = 1 / scale,
    shift = range + 1;
  let norm = 0,
    err = 0,
    quant = 0;
  for (let e = 0; e < dim; e++) {
    const x = v[off + e];
    let u = x * inv; // may land a hair outside ±range by rounding
    if (u > range) u = range;
    else if (u < -range) u = -range;
    // Round half up by truncating a positive number (2.5× faster than Math.round); the error terms
    // below use the value actually chosen, so the rounding rule does not affect rigour.
    const t = ((u + shift + 0.5) | 0) - shift;
    out[outOff + e * outStride] = t + zeroPoint;
    const q = scale * t,
      d = x - q;
    norm += x * x;
    err += d * d;
    quant += q * q;
  }
  sq.norm = norm;
  sq.err = err;
  sq.quant = quant;
}

function absMax(v: Float32Array, start: number, end: number): number {
  let m = 0;
  for (let i = start; i < end; i++) {
    const a = v[i] < 0 ? -v[i] : v[i];
    if (a > m) m = a;
  }
  return m; // a NaN entry still reaches the bounds: its rounding error is NaN
}

/** y (cols × dim) quantized with one scale, as column chunks [dim, width] for the graph. */
function quantizePoints(y: Float32Array, cols: number, dim: number, range: number, chunkCols: number) {
  const amax = absMax(y, 0, y.length);
  const scale = amax > 0 ? amax / range : 1;
  const chunks: Int8Array[] = [];
  let maxNormSq = 0,
    maxErrSq = 0;
  for (let c0 = 0; c0 < cols; c0 += chunkCols) {
    const width = Math.min(chunkCols, cols - c0),
      q = new Int8Array(dim * width); // written column-wise: stays in cache
    for (let j = 0; j < width; j++) {
      quantize(y, (c0 + j) * dim, dim, scale, range, q, j, width, 0);
      maxNormSq = Math.max(maxNormSq, sq.norm);
      maxErrSq = Math.max(maxErrSq, sq.err);
    }
    chunks.push(q);
  }
  return { chunks, scale, maxNorm: Math.sqrt(maxNormSq), maxErr: Math.sqrt(maxErrSq) };
}

/** Rows per session run: with CHUNK_COLS columns per node a 512-row int32 slab is 1 MiB (L2 is 2 MiB). */
export const INT8_BLOCK_ROWS = 512;

export async function int8RowMaxBounds(
  backend: OrtBackend,
  x: Float32Array,
  rows: number,
  y: Float32Array,
  cols: number,
  dim: number,
  blockRows: number,
  check: CancelCheck,
  chunkCols = CHUNK_COLS,
): Promise<RowMaxBounds> {
  const range = await weightRange(backend);
  const pts = quantizePoints(y, cols, dim, range, chunkCols);
  const session = await backend.createSession(int8Graph(pts.chunks, dim));
  const lo = new Float64Array(rows),
    hi = new Float64Array(rows);
  // Every row quantized with its own scale, up front: x'_i = s_i·x̃_i, and its error bound ε_i.
  const xq = new Uint8Array(rows * dim),
    scale = new Float64Array(rows),
    eps = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const off = i * dim,
      amax = absMax(x, off, off + dim),
      s = amax > 0 ? amax / 127 : 1;
    quantize(x, off, dim, s, 127, xq, off, 1, X_ZERO_POINT);
    scale[i] = s * pts.scale;
    eps[i] = Math.sqrt(sq.err) * pts.maxNorm + Math.sqrt(sq.quant) * pts.maxErr + FLOAT32_SLACK * Math.sqrt(sq.norm) * pts.maxNorm;
  }
  try {
    for (let start = 0; start < rows; start += blockRows) {
      check();
      const end = Math.min(rows, start + blockRows);
      const r = await session.run({ X: backend.tensor("uint8", xq.subarray(start * dim, end * dim), [end - start, dim]) });
      const m = r.Y.data as Int32Array;
      for (let i = start; i < end; i++) {
        const approx = scale[i] * m[i - start];
        lo[i] = approx - eps[i];
        hi[i] = approx + eps[i];
      }
    }
  } finally {
    await session.release();
  }
  return { lo, hi };
}
