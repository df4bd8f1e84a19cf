/**
 * The isotropic head's floor (issue #25): its int8 bound passes' multiply-adds at the bare
 * MatMulInteger kernel's rate, measured in the same run. The kernel is timed as the pass runs it —
 * 512 uint8 rows × d_head against the columns in 512-wide int8 chunks, each product left in cache —
 * but with nothing reading the products (a 1 × 1 slice of each keeps the node alive): what the
 * pass would cost if its ReduceMax, quantization and bookkeeping were free.
 */
import { ElemType, Graph } from "../src/worker/onnxModel";
import { OrtBackend } from "../src/worker/ortBackend";
import { median } from "./record";

const ROWS = 512,
  CHUNK = 512,
  CHUNKS = 94, // ≈ 48k columns
  REPS = 10;

function kernelGraph(dim: number): Graph {
  const i64 = (name: string, v: bigint[]) => ({
    name,
    type: ElemType.INT64,
    dims: [v.length],
    raw: new Uint8Array(BigInt64Array.from(v).buffer),
  });
  const g: Graph = {
    name: "int8kernel",
    inputs: [{ name: "X", type: ElemType.UINT8, dims: ["b", dim] }],
    outputs: [{ name: "Y", type: ElemType.INT32, dims: [1, CHUNKS] }],
    nodes: [],
    initializers: [{ name: "XZ", type: ElemType.UINT8, dims: [], raw: new Uint8Array([128]) }, i64("S0", [0n, 0n]), i64("S1", [1n, 1n])],
  };
  for (let c = 0; c < CHUNKS; c++) {
    const w = Int8Array.from({ length: dim * CHUNK }, (_, i) => ((i * 37 + c) % 255) - 127);
    g.initializers!.push({ name: `W${c}`, type: ElemType.INT8, dims: [dim, CHUNK], raw: new Uint8Array(w.buffer) });
    g.nodes.push({ op: "MatMulInteger", inputs: ["X", `W${c}`, "XZ"], outputs: [`P${c}`] });
    g.nodes.push({ op: "Slice", inputs: [`P${c}`, "S0", "S1"], outputs: [`R${c}`] });
  }
  g.nodes.push({
    op: "Concat",
    inputs: Array.from({ length: CHUNKS }, (_, c) => `R${c}`),
    outputs: ["Y"],
    attributes: [{ name: "axis", int: 1 }],
  });
  return g;
}

/** Integer ops per second (2 per multiply-add) of the bare kernel: median of 5 timings of REPS runs. */
export async function int8KernelOps(backend: OrtBackend, dim: number): Promise<number> {
  const s = await backend.createSession(kernelGraph(dim));
  const x = backend.tensor(
    "uint8",
    Uint8Array.from({ length: ROWS * dim }, (_, i) => (i * 11) % 256),
    [ROWS, dim],
  );
  try {
    await s.run({ X: x });
    const rates: number[] = [];
    for (let t = 0; t < 5; t++) {
      const start = performance.now();
      for (let r = 0; r < REPS; r++) await s.run({ X: x });
      rates.push((2 * ROWS * CHUNK * CHUNKS * dim * REPS) / ((performance.now() - start) / 1000));
    }
    return median(rates);
  } finally {
    await s.release();
  }
}
