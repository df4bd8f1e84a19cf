/**
 * The compute backend: onnxruntime-node sessions over graphs built at run time. The execution
 * provider is the first of the preference list that initializes; the others fall back with a logged
 * reason. session.run blocks this thread, which is why the engine lives in a worker.
 */
import { availableParallelism } from "node:os";
import type * as Ort from "onnxruntime-node";
import { Graph, buildModelWithData, ElemType } from "./onnxModel";
import { HeadLensError } from "../core/errors";
import { DEFAULT_EP_PREFERENCE, ExecutionProvider, KNOWN_EPS } from "../protocol/engine";
import { diagnoseCuda, loadOrt } from "./ortModule";

// Loaded when the first backend is created: describing models and tokenizing for hovers need no native runtime.
let ortModule: typeof Ort | undefined;
const ort = (): typeof Ort => (ortModule ??= loadOrt(undefined).ort);

export type TensorType = "float32" | "uint8" | "int8" | "int32" | "int64" | "bool";
type TensorData = Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;

export interface BackendOptions {
  epPreference: ExecutionProvider[];
  threads?: number;
  /** An onnxruntime-node installed with the CUDA provider beside it (the host's CudaProvider.root). */
  ortRoot?: string;
  /** `warning`: something the user asked for is not used (shown, not only logged). */
  log?: (message: string, warning?: boolean) => void;
}

/** Throws a CancelledError when the caller's cancel flag is set; checked between blocks. */
export type CancelCheck = () => void;

export class CancelledError extends HeadLensError {
  constructor() {
    super("analysis cancelled", "cancelled");
  }
}

export class OrtBackend {
  private sessions = new Map<string, Promise<Ort.InferenceSession>>();

  private constructor(
    readonly ep: ExecutionProvider,
    private readonly opts: Ort.InferenceSession.SessionOptions,
  ) {}

  static async create(options: BackendOptions): Promise<OrtBackend> {
    const log = options.log ?? (() => {});
    const prefs = options.epPreference.length ? options.epPreference : [...DEFAULT_EP_PREFERENCE];
    if (!ortModule) {
      const loaded = loadOrt(options.ortRoot);
      ortModule = loaded.ort;
      if (loaded.warning) log(loaded.warning, true);
    }
    const reasons: string[] = [];
    for (const ep of prefs) {
      if (!KNOWN_EPS.includes(ep)) {
        reasons.push(`${ep}: unknown execution provider (known: ${KNOWN_EPS.join(", ")})`);
        continue;
      }
      const opts: Ort.InferenceSession.SessionOptions = {
        executionProviders: [ep],
        intraOpNumThreads: options.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        // Idle intra-op threads would otherwise busy-wait between our blocks and steal the host's CPU.
        extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
      };
      try {
        const backend = new OrtBackend(ep, opts);
        await backend.probe();
        // A provider the user put first and did not get is news; one tried after it is not.
        if (reasons.length) log(`execution provider ${ep} is used instead of ${reasons.join("; ")}`, true);
        else log(`execution provider ${ep} selected`);
        return backend;
      } catch (e) {
        const first = (e as Error).message.split("\n")[0];
        const why = ep === "cuda" ? diagnoseCuda(first, options.ortRoot) : first;
        reasons.push(`${ep}: ${why}`);
        log(`execution provider ${ep} failed to initialize: ${first}`);
      }
    }
    throw new HeadLensError(
      `no execution provider could be initialized (${reasons.join("; ")}); include "cpu" in the preference list`,
      "engine.ep",
    );
  }

  /** An onnxruntime tensor (the native module stays unloaded until a backend exists). */
  tensor(type: TensorType, data: TensorData, dims: number[]): Ort.Tensor {
    return new (ort().Tensor)(type, data as never, dims);
  }

  /** A tiny matmul, to prove the provider really runs (creating a session can succeed lazily). */
  private async probe(): Promise<void> {
    const out = await this.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), 2, 2, 2);
    if (out[3] !== 4) throw new Error("probe matmul returned a wrong result");
  }

  /** A session for a graph built once per key and kept for the backend's life. */
  cachedSession(key: string, graph: () => Graph): Promise<Ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = this.createSession(graph());
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /**
   * session.run with float32 outputs written straight into new JavaScript arrays of the given
   * shapes: onnxruntime allocating them and onnxruntime-node copying them out costs ≈ 5 ms more per
   * 12 MB output (a V × 64 factor), ≈ 30 ms per head at V = 48k.
   */
  private async runInto<K extends string>(
    s: Ort.InferenceSession,
    feeds: Record<string, Ort.Tensor>,
    outputs: Record<K, number[]>,
  ): Promise<Record<K, Float32Array>> {
    const out = {} as Record<K, Float32Array>;
    if (this.ep !== "cpu") {
      // Measured on the CPU provider only; a device provider allocates and copies its outputs itself.
      const r = await s.run(feeds);
      for (const name of Object.keys(outputs) as K[]) out[name] = r[name].data as Float32Array;
      return out;
    }
    const fetches: Record<string, Ort.Tensor> = {};
    for (const name of Object.keys(outputs) as K[]) {
      const dims = outputs[name];
      out[name] = new Float32Array(dims.reduce((a, b) => a * b, 1));
      fetches[name] = this.tensor("float32", out[name], dims);
    }
    await s.run(feeds, fetches);
    return out;
  }

  /** C[m,n] = A[m,k] · B[k,n]. */
  async matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Promise<Float32Array> {
    const s = await this.cachedSession("matmul", () => ({
      name: "matmul",
      inputs: [
        { name: "A", type: ElemType.FLOAT, dims: ["m", "k"] },
        { name: "B", type: ElemType.FLOAT, dims: ["k", "n"] },
      ],
      outputs: [{ name: "C", type: ElemType.FLOAT, dims: ["m", "n"] }],
      nodes: [{ op: "MatMul", inputs: ["A", "B"], outputs: ["C"] }],
    }));
    return (await this.runInto(s, { A: this.tensor("float32", a, [m, k]), B: this.tensor("float32", b, [k, n]) }, { C: [m, n] })).C;
  }

  /**
   * AᵀA for A [n, r]: one Gemm with transA (the same numbers as Transpose + MatMul, measured on
   * V × 64 factors, ≈ 20 % less CPU: the transpose is never written out).
   */
  async gram(a: Float32Array, n: number, r: number): Promise<Float32Array> {
    const s = await this.cachedSession("gram", () => ({
      name: "gram",
      inputs: [{ name: "A", type: ElemType.FLOAT, dims: ["n", "r"] }],
      outputs: [{ name: "G", type: ElemType.FLOAT, dims: ["r", "r"] }],
      nodes: [{ op: "Gemm", inputs: ["A", "A"], outputs: ["G"], attributes: [{ name: "transA", int: 1 }] }],
    }));
    return (await this.runInto(s, { A: this.tensor("float32", a, [n, r]) }, { G: [r, r] })).G;
  }

  /** Σ_e A[i, e]² per row of A [n, r], float32 (ReduceSumSquare: any order, see normsFromSquares). */
  async rowNormsSq(a: Float32Array, n: number, r: number): Promise<Float32Array> {
    const s = await this.cachedSession("rownorms", () => ({
      name: "rownorms",
      inputs: [{ name: "A", type: ElemType.FLOAT, dims: ["n", "r"] }],
      outputs: [{ name: "N", type: ElemType.FLOAT, dims: ["n"] }],
      nodes: [
        {
          op: "ReduceSumSquare",
          inputs: ["A"],
          outputs: ["N"],
          attributes: [
            { name: "axes", ints: [1] },
            { name: "keepdims", int: 0 },
          ],
        },
      ],
    }));
    return (await s.run({ A: this.tensor("float32", a, [n, r]) })).N.data as Float32Array;
  }

  /**
   * C = A[m,k] · B[k,n] and Σ_j C[i, j]² per row, in one run; `keepProduct` false returns the
   * squared norms only (the product never leaves onnxruntime).
   */
  async matmulNormsSq(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    keepProduct: boolean,
  ): Promise<{ product?: Float32Array; normsSq: Float32Array }> {
    const key = keepProduct ? "matmulnorms" : "matmulnormsonly";
    const s = await this.cachedSession(key, () => ({
      name: key,
      inputs: [
        { name: "A", type: ElemType.FLOAT, dims: ["m", "k"] },
        { name: "B", type: ElemType.FLOAT, dims: ["k", "n"] },
      ],
      outputs: [
        ...(keepProduct ? [{ name: "C", type: ElemType.FLOAT, dims: ["m", "n"] }] : []),
        { name: "N", type: ElemType.FLOAT, dims: ["m"] },
      ],
      nodes: [
        { op: "MatMul", inputs: ["A", "B"], outputs: ["C"] },
        {
          op: "ReduceSumSquare",
          inputs: ["C"],
          outputs: ["N"],
          attributes: [
            { name: "axes", ints: [1] },
            { name: "keepdims", int: 0 },
          ],
        },
      ],
    }));
    const feeds = { A: this.tensor("float32", a, [m, k]), B: this.tensor("float32", b, [k, n]) };
    if (!keepProduct) return { normsSq: (await this.runInto(s, feeds, { N: [m] })).N };
    const r = await this.runInto(s, feeds, { C: [m, n], N: [m] });
    return { product: r.C, normsSq: r.N };
  }

  /**
   * C − C[row] for C = A[m,k] · B[k,n] — every row minus one of them, in float32, which is
   * JavaScript's fround(x − y) — and C[row] itself.
   */
  async matmulMinusRow(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    row: number,
  ): Promise<{ diff: Float32Array; row: Float32Array }> {
    const s = await this.cachedSession("matmulminusrow", () => ({
      name: "matmulminusrow",
      inputs: [
        { name: "A", type: ElemType.FLOAT, dims: ["m", "k"] },
        { name: "B", type: ElemType.FLOAT, dims: ["k", "n"] },
        { name: "ROW", type: ElemType.INT64, dims: [1] },
      ],
      outputs: [
        { name: "D", type: ElemType.FLOAT, dims: ["m", "n"] },
        { name: "R", type: ElemType.FLOAT, dims: [1, "n"] },
      ],
      nodes: [
        { op: "MatMul", inputs: ["A", "B"], outputs: ["C"] },
        { op: "Gather", inputs: ["C", "ROW"], outputs: ["R"], attributes: [{ name: "axis", int: 0 }] },
        { op: "Sub", inputs: ["C", "R"], outputs: ["D"] },
      ],
    }));
    const feeds = {
      A: this.tensor("float32", a, [m, k]),
      B: this.tensor("float32", b, [k, n]),
      ROW: this.tensor("int64", BigInt64Array.from([BigInt(row)]), [1]),
    };
    const r = await this.runInto(s, feeds, { D: [m, n], R: [1, n] });
    return { diff: r.D, row: r.R };
  }

  /** Aᵀ·B for A [k, m] and B [k, n], as [m, n] (Gemm with transA: the transpose never exists). */
  matmulTA(a: Float32Array, b: Float32Array, k: number, m: number, n: number): Promise<Float32Array> {
    return this.gemm("A", a, [k, m], b, [k, n], [m, n]);
  }

  /** One Gemm with A or B transposed (a cached session for each), written into a new array of `out`'s shape. */
  private async gemm(
    trans: "A" | "B",
    a: Float32Array,
    aDims: number[],
    b: Float32Array,
    bDims: number[],
    out: number[],
  ): Promise<Float32Array> {
    const s = await this.cachedSession(`gemmT${trans}`, () => ({
      name: `gemmT${trans}`,
      inputs: [
        { name: "A", type: ElemType.FLOAT, dims: ["a0", "a1"] },
        { name: "B", type: ElemType.FLOAT, dims: ["b0", "b1"] },
      ],
      outputs: [{ name: "C", type: ElemType.FLOAT, dims: ["c0", "c1"] }],
      nodes: [{ op: "Gemm", inputs: ["A", "B"], outputs: ["C"], attributes: [{ name: `trans${trans}`, int: 1 }] }],
    }));
    return (await this.runInto(s, { A: this.tensor("float32", a, aDims), B: this.tensor("float32", b, bDims) }, { C: out })).C;
  }

  /** X·Yᵀ for X [rows, inner] and Y [cols, inner] (Gemm with transB). */
  rowsOf(x: Float32Array, rows: number, y: Float32Array, cols: number, inner: number): Promise<Float32Array> {
    return this.gemm("B", x, [rows, inner], y, [cols, inner], [rows, cols]);
  }

  /** A session for a graph of the caller's, with this backend's provider and options. */
  async createSession(graph: Graph): Promise<Ort.InferenceSession> {
    const { model, externalData } = buildModelWithData(graph);
    const session = await ort().InferenceSession.create(model, externalData.length ? { ...this.opts, externalData } : this.opts);
    sessionData.set(session, externalData); // onnxruntime may read large initializers in place: they live as long as the session
    return session;
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => undefined))?.release();
    this.sessions.clear();
  }
}

const sessionData = new WeakMap<Ort.InferenceSession, unknown>();

/** Rows per block so one block's [rows, cols] float32 slab fits the budget. */
export function blockRowsFor(cols: number, budgetBytes: number): number {
  return Math.max(1, Math.floor(budgetBytes / (4 * cols)));
}
