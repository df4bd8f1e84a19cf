/** The benchmarks' real-size random model: V = 48 262, d_model 512, 2 layers × 8 heads of 64, n_ctx 1 024, and 1 024 random ids. */
import { join } from "node:path";
import { tempDir } from "../test/support/engine";
import { randomWeights, writeModelDir } from "../test/support/models";

export const BIG_MODEL_NAME = "V 48 262, d_model 512, 2 layers × 8 heads, 1 024 tokens";

export function writeBigModel(): { dir: string; ids: number[] } {
  const big = randomWeights({ V: 48262, D: 512, H: 8, E: 64, L: 2, seed: 1024, name: "bench-48k-2l" });
  big.config.n_ctx = 1024;
  big.W_pos = { shape: [1024, 512], data: new Float32Array(1024 * 512).map((_, i) => Math.sin(i * 12.9898) * 0.1) };
  let x = 7;
  const ids = [0, ...Array.from({ length: 1023 }, () => 1 + ((x = (x * 48271) % 2147483647) % 48000))];
  return { dir: writeModelDir(join(tempDir("head-lens-bench-"), "bench-48k-2l"), big), ids };
}
