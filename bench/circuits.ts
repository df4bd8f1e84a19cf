/**
 * Issue #12's costs on a real-size model (V = 48 262, d_model 512, 2 layers × 8 heads, d_head 64,
 * random weights): every head metric and composition score for the model, and composition paths
 * (k, q, v), against the dense direct analysis of one head in the same run. Medians of --reps runs.
 * `--kind trained-like` uses weights shaped like trained ones (where the OV side's cheap bounds
 * prune a q or v path); the isotropic default also times the floor under the k path: its
 * diagonal-count pass against a plain max pass over the same V² product.
 *   npm run bench:circuits [-- --reps 3] [--kind isotropic|trained-like]
 */
import { processWeights } from "../src/core/processing";
import { analyzeHeadDense } from "../src/worker/denseStrategy";
import { analyzeHeadPruned } from "../src/worker/prunedStrategy";
import { HeadJob } from "../src/worker/headJob";
import { modelMetrics } from "../src/worker/modelMetrics";
import { StoredModel } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { analyzePath } from "../src/worker/pathStrategy";
import { ortKernels } from "../src/worker/ortKernels";
import { pathCircuits } from "../src/core/pathCircuits";
import { randomWeights, trainedLikeWeights } from "../test/support/models";
import { uniformHeadJob } from "../test/support/headJobs";
import { median, record } from "./record";

const arg = (name: string, dflt: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const REPS = arg("--reps", 3);
const KIND = process.argv.includes("--kind") ? process.argv[process.argv.indexOf("--kind") + 1] : "isotropic";

async function main(): Promise<void> {
  const V = 48262;
  if (KIND !== "isotropic" && KIND !== "trained-like") throw new Error(`--kind must be isotropic or trained-like, not ${KIND}`);
  const spec = { V, D: 512, H: 8, E: 64, L: 2, seed: 4812, name: `${KIND}-48k-2l` };
  const raw = KIND === "isotropic" ? randomWeights(spec) : trainedLikeWeights(spec);
  raw.config.n_ctx = 1024;
  raw.W_pos = { shape: [1024, 512], data: new Float32Array(1024 * 512).map((_, i) => Math.sin(i) * 0.05) };
  const w = processWeights(raw);
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  const job = uniformHeadJob(w, 1, 0, { nKeys: 5, nQueries: 20, nOutputs: 20 }, "bench");
  const ctl = { check: () => {}, blockBytes: 12 << 20 };
  const time = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return (performance.now() - t) / 1000;
  };
  await analyzeHeadDense(backend, job, ctl); // warm-up
  const rows: Record<string, number[]> = {
    "direct head (dense)": [],
    "direct head (auto: pruned)": [],
    "path k": [],
    "path q": [],
    "path v": [],
    "all metrics (16 heads)": [],
  };
  for (let r = 0; r < REPS; r++) {
    rows["direct head (dense)"].push(await time(() => analyzeHeadDense(backend, job, ctl)));
    rows["direct head (auto: pruned)"].push(await time(() => analyzeHeadPruned(backend, job, ctl)));
    for (const type of ["k", "q", "v"] as const)
      rows[`path ${type}`].push(await time(() => analyzePath(backend, job, { layer: 0, head: 3, type }, ctl)));
    const stored = {
      identity: "bench",
      model: { dir: "", config: w.config, weights: w, vocab: { bos: 0 } },
      priors: new Map(),
      importance: new Map(),
    } as unknown as StoredModel;
    rows["all metrics (16 heads)"].push(await time(() => modelMetrics(stored, backend)));
  }
  const base = median(rows["direct head (dense)"]);
  console.log(`V=${V}, d_model 512, 2 layers × 8 heads, d_head 64 (${KIND} weights), ${REPS} runs, medians:`);
  for (const [name, xs] of Object.entries(rows)) {
    console.log(
      `  ${name.padEnd(24)} ${median(xs).toFixed(3)} s  (${(median(xs) / base).toFixed(2)}× a direct head)  [${xs.map((x) => x.toFixed(2)).join(", ")}]`,
    );
  }
  const peer = { name: "a direct head (dense)", value: base };
  const suffix = KIND === "isotropic" ? "" : ".trained";
  for (const type of ["k", "q", "v"])
    record({
      id: `path.${type}${suffix}`,
      what: `composition path ${type} (L0H3 → L1H0), ${KIND} 48k 2 × 8`,
      value: median(rows[`path ${type}`]),
      unit: "s",
      peer,
      goal: type === "v" ? undefined : "≤ 1.0× a dense head",
      met: type === "v" ? undefined : median(rows[`path ${type}`]) <= base,
    });
  // What "auto" runs for a head on the CPU: the diagonal statistics keep a k or q path to a full V² pass.
  record({
    id: `head.auto${suffix}`,
    what: `a direct head, auto (pruned), ${KIND} 48k`,
    value: median(rows["direct head (auto: pruned)"]),
    unit: "s",
    peer,
  });
  if (KIND === "isotropic") await countFloor(backend, job, time);
  console.log(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await backend.dispose();
}

/** What a k path pays beyond a plain pass: onnxruntime has no fused compare-and-count operator. */
async function countFloor(backend: OrtBackend, job: HeadJob, time: (f: () => Promise<unknown>) => Promise<number>): Promise<void> {
  const kernels = ortKernels(backend),
    ctl = { check: () => {}, blockBytes: 12 << 20 };
  const { qk } = await pathCircuits(job.weights, 1, 0, { layer: 0, head: 3, type: "k" }, 0, kernels);
  const plain: number[] = [],
    count: number[] = [];
  for (let r = 0; r < REPS; r++) {
    plain.push(await time(() => qk!.T.rowMax(kernels, ctl)));
    count.push(await time(() => qk!.diagonalRanks(kernels, ctl)));
  }
  console.log(
    `  path k's count pass ${median(count).toFixed(3)} s vs a plain max pass ${median(plain).toFixed(3)} s over the same product`,
  );
  record({
    id: "path.countPass",
    what: "path k's diagonal-count pass with its bounds and diagonal (onnxruntime has no fused compare-and-count)",
    value: median(count),
    unit: "s",
    peer: { name: "a plain max pass over the same V² product", value: median(plain) },
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
