/** The factored-matrix reductions (core/factored.ts ReductionKernels) on the onnxruntime backend. */
import { blockEnd, blockedRowMax, columnBlockCountSession, rowMaxOfRows, rowMaxSession } from "./streamedReductions";
import { ReductionKernels } from "../core/factored";
import { CHUNK_COLS, INT8_BLOCK_ROWS, int8RowMaxBounds } from "./int8Bounds";
import { blockRowsFor, OrtBackend } from "./ortBackend";

export function ortKernels(backend: OrtBackend): ReductionKernels {
  return {
    matmul: (a, b, m, k, n) => backend.matmul(a, b, m, k, n),
    matmulTA: (a, b, k, m, n) => backend.matmulTA(a, b, k, m, n),
    matmulMinusRow: (a, b, m, k, n, row) => backend.matmulMinusRow(a, b, m, k, n, row),
    rowNormsSq: (a, n, r) => backend.rowNormsSq(a, n, r),
    matmulNormsSq: (a, b, m, k, n, keep) => backend.matmulNormsSq(a, b, m, k, n, keep),
    gram: (a, n, r) => backend.gram(a, n, r),
    rowsOf: (x, rows, y, cols, inner) => backend.rowsOf(x, rows, y, cols, inner),
    rowMax: (x, y, rows, inner, cols, ctl) =>
      blockedRowMax(backend, x, y, rows, inner, cols, blockRowsFor(cols, ctl.blockBytes), ctl.check, ctl.progress),
    rowMaxBounds: (x, rows, y, cols, dim, ctl) =>
      int8RowMaxBounds(
        backend,
        x,
        rows,
        y,
        cols,
        dim,
        Math.min(INT8_BLOCK_ROWS, blockRowsFor(Math.min(cols, CHUNK_COLS), ctl.blockBytes)),
        ctl.check,
      ),
    rowMaxSession: (y, inner, cols) => rowMaxSession(backend, y, inner, cols),
    rowMaxOfRows: (x, rows, y, cols, inner, ctl) =>
      rowMaxOfRows(backend, x, rows, y, cols, inner, blockRowsFor(cols, ctl.blockBytes), ctl.check),
    rowCountsAndColMax: async (x, rows, y, cols, inner, lo, hi, ctl) => {
      const session = await columnBlockCountSession(backend, x, rows, inner, lo, hi);
      const above = new Int32Array(rows),
        atLeast = new Int32Array(rows),
        colMax = new Float32Array(cols);
      const block = blockRowsFor(rows, ctl.blockBytes);
      try {
        for (let start = 0, end = 0; start < cols; start = end) {
          ctl.check();
          end = blockEnd(start, cols, block);
          const r = await session.run(y.subarray(start * inner, end * inner), end - start);
          for (let i = 0; i < rows; i++) {
            above[i] += r.above[i];
            atLeast[i] += r.atLeast[i];
          }
          colMax.set(r.colMax, start);
          ctl.progress?.(end);
        }
      } finally {
        await session.release();
      }
      return { above, atLeast, colMax };
    },
  };
}
