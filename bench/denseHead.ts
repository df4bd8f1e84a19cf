/**
 * Benchmark: one head of a random V = 48 262, d_model 512, d_head 64, 8-head model, end to end
 * (factors, both streamed reductions, selection) on the engine, against a blocked numpy peer run
 * in the same script on the same processed weights; plus a 4096³ sgemm in onnxruntime-node for the
 * machine's practical GEMM rate. Prints medians, ratios and the engine's peak RSS.
 *
 *   npm run bench:dense [-- --repeats 5 --block-mb 12]
 */
import { availableParallelism, cpus } from "node:os";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { writeSafetensors } from "../src/core/safetensors";
import { weightsToNamedTensors } from "../src/core/weights";
import { analyzeHeadDense } from "../src/worker/denseStrategy";
import { OrtBackend } from "../src/worker/ortBackend";
import { uniformPrior } from "../src/worker/loaders/priors";
import { priorWeights } from "../src/core/selection";
import { randomWeights } from "../test/support/models";
import { tempDir } from "../test/support/engine";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPEATS = arg("--repeats", 5);
const BLOCK_MB = arg("--block-mb", 12);
const V = 48262,
  D = 512,
  E = 64,
  H = 8;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads`);
  const raw = randomWeights({ V, D, H, E, L: 1, seed: 48262, name: "bench-48k" });
  const w = processWeights(raw);
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  const prior = uniformPrior(V).p;
  const priorW = priorWeights(prior);
  const job = {
    modelName: "bench",
    weights: w,
    bos: 0,
    layer: 0,
    head: 3,
    prior,
    priorW,
    priorSource: "uniform",
    sizes: { nKeys: 5, nQueries: 20, nOutputs: 20 },
    label: String,
    byteLength: () => 1,
  };
  const ctl = { check: () => {}, blockBytes: BLOCK_MB * 1024 * 1024 };
  await analyzeHeadDense(backend, job, ctl); // warm-up: session creation
  const engineTimes: number[] = [];
  let keys: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    const r = await analyzeHeadDense(backend, job, ctl);
    engineTimes.push((performance.now() - t) / 1000);
    keys = r.report.keys.map((k) => k.id);
  }
  const rss = process.resourceUsage().maxRSS / 1024;

  const n = 4096;
  const a = new Float32Array(n * n).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
  await backend.matmul(a, a, n, n, n);
  const sg: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await backend.matmul(a, a, n, n, n);
    sg.push((performance.now() - t) / 1000);
  }

  // The peer reads the same processed weights.
  const file = join(tempDir("head-lens-bench-"), "processed.safetensors");
  writeFileSync(
    file,
    writeSafetensors(weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, data: t.data }))),
  );
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; // let OpenBLAS pick its best kernel for this CPU (peer only)
  delete env.OPENBLAS_L2_SIZE;
  const blockRows = Math.floor((BLOCK_MB * 1024 * 1024) / (4 * V));
  const peer = spawnSync(
    "python3",
    [join(__dirname, "..", "..", "bench", "numpy_peer.py"), file, "0", "3", String(REPEATS), String(blockRows), "0"],
    { encoding: "utf8", env, maxBuffer: 1 << 20 },
  );
  if (peer.status !== 0) throw new Error(`numpy peer failed: ${peer.stderr}`);
  const p = JSON.parse(peer.stdout.trim().split("\n").pop()!);

  const flop = 2 * 2 * V * V * E; // two V×V×d_head circuits
  const eng = median(engineTimes),
    np = median(p.seconds as number[]),
    sgemm = median(sg);
  const sgemmRate = (2 * n ** 3) / sgemm / 1e9;
  const engRate = flop / eng / 1e9;
  console.log(`one head, V=${V}, d_head=${E}, block ${BLOCK_MB} MiB (${blockRows} rows), ${REPEATS} repeats:`);
  console.log(
    `  engine (onnxruntime ${backend.ep}):  median ${eng.toFixed(3)} s  [${engineTimes.map((t) => t.toFixed(2)).join(", ")}]  ${engRate.toFixed(0)} GFLOP/s`,
  );
  console.log(`  numpy peer (blocked):      median ${np.toFixed(3)} s  [${(p.seconds as number[]).map((t) => t.toFixed(2)).join(", ")}]`);
  console.log(`  ratio numpy / engine:      ${(np / eng).toFixed(2)}x`);
  console.log(`  same keys as the peer:     ${JSON.stringify(keys) === JSON.stringify(p.keys)} (${keys.join(", ")})`);
  console.log(
    `sgemm 4096³: onnxruntime ${sgemm.toFixed(3)} s = ${sgemmRate.toFixed(0)} GFLOP/s; ` +
      `numpy ${((2 * n ** 3) / p.sgemm4096_s / 1e9).toFixed(0)} GFLOP/s (single run)`,
  );
  console.log(`  engine FLOP rate / onnxruntime sgemm rate: ${((100 * engRate) / sgemmRate).toFixed(0)} %`);
  console.log(`engine process peak RSS: ${rss.toFixed(0)} MiB (includes the 48k-vocab weights held in float32)`);
  await backend.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
