/** This machine's float32 GEMM rate through onnxruntime, printed by the benches so runs on different machines (and hours) compare. */
import { availableParallelism } from "node:os";
import { OrtBackend } from "../src/worker/ortBackend";

/** GFLOP/s of a 2048³ sgemm, the median of 3 after a warm-up. */
export async function sgemmRate(): Promise<number> {
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: availableParallelism(), log: () => undefined });
  try {
    const n = 2048,
      a = new Float32Array(n * n).fill(0.5);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      await backend.matmul(a, a, n, n, n);
      if (i > 0) times.push((performance.now() - t) / 1000);
    }
    return (2 * n ** 3) / [...times].sort((x, y) => x - y)[1] / 1e9;
  } finally {
    await backend.dispose();
  }
}
