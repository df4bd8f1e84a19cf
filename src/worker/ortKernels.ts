/** The factored-matrix reductions (core/factored.ts ReductionKernels) on the onnxruntime backend. */
import { ReductionKernels } from "../core/factored";
import { int8RowMaxBounds } from "./int8Bounds";
import { blockRowsFor, OrtBackend } from "./ortBackend";

export function ortKernels(backend: OrtBackend): ReductionKernels {
  return {
    matmul: (a, b, m, k, n) => backend.matmul(a, b, m, k, n),
    rowMax: (x, y, rows, inner, cols, ctl) => backend.blockedRowMax(x, y, rows, inner, cols, blockRowsFor(cols, ctl.blockBytes), ctl.check, ctl.progress),
    rowMaxBounds: (x, rows, y, cols, dim, ctl) => int8RowMaxBounds(backend, x, rows, y, cols, dim, blockRowsFor(cols, ctl.blockBytes), ctl.check),
    rowMaxSession: (y, inner, cols) => backend.rowMaxSession(y, inner, cols),
  };
}
