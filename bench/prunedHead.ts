/**
 * Benchmark: pruned (exact: cheap bounds → int8 bounds on what is left → exact evaluation) vs
 * dense key selection, both ours, and the blocked numpy peer, on V = 48 262 / d_model 512 /
 * d_head 64 models of several weight kinds, and on the bundled demo-attn-2l. Dense and pruned run
 * alternately on each head (same load for both); medians per head, the fraction of keys alive
 * after each stage, peak RSS. Exits non-zero unless every pruned report equals the dense one.
 *
 * Weight kinds (test/support/models.ts):
 *   isotropic     randomWeights: Gaussian everything, the hard case (no cheap bound prunes)
 *   trained-like  trainedLikeWeights defaults: log-normal W_E / W_U token norms (σ 0.5), 8 outlier
 *                 tokens at 5–20×, head spectra decaying by e every 8 directions
 *   spectrum      the decaying spectra only (σ 0, no outliers): the hardest structured case
 *   heavy         σ 1 and the outliers
 *
 *   npm run bench:pruned [-- --heads 3] [--kinds isotropic,trained-like] [--points 256] [--sweep] [--no-demo] [--no-numpy]
 * The isotropic kind also states its floor (bench/int8Floor.ts) and records it for bench:all.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { writeSafetensors } from "../src/core/safetensors";
import { priorWeights } from "../src/core/selection";
import { ModelWeights, weightsToNamedTensors } from "../src/core/weights";
import { analyzeHeadDense } from "../src/worker/denseStrategy";
import { HeadJob } from "../src/worker/headJob";
import { OrtBackend } from "../src/worker/ortBackend";
import { analyzeHeadPruned, PruneStats, resolveStrategy } from "../src/worker/prunedStrategy";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { loadPrior, uniformPrior } from "../src/worker/loaders/priors";
import { randomWeights, RandomModelSpec, trainedLikeWeights } from "../test/support/models";
import { REPO_ROOT, tempDir } from "../test/support/engine";
import { int8KernelOps } from "./int8Floor";
import { median, record } from "./record";

const arg = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const HEADS = Number(arg("--heads", "3")),
  POINTS = Number(arg("--points", "256"));
const KINDS = arg("--kinds", "isotropic,trained-like,spectrum,heavy").split(",").filter(Boolean);
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const BLOCK = 12 * 2 ** 20;
let allSame = true;

const KIND_WEIGHTS: Record<string, (s: RandomModelSpec) => ModelWeights> = {
  isotropic: (s) => randomWeights(s),
  "trained-like": (s) => trainedLikeWeights(s),
  spectrum: (s) => trainedLikeWeights({ ...s, embedSigma: 0, unembedSigma: 0, outliers: 0 }),
  heavy: (s) => trainedLikeWeights({ ...s, embedSigma: 1, unembedSigma: 1 }),
};

async function compare(
  name: string,
  w: ModelWeights,
  prior: Float64Array,
  bos: number,
  heads: { layer: number; head: number }[],
  numpy: boolean,
): Promise<void> {
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  const priorW = priorWeights(prior);
  const V = w.config.d_vocab;
  const job = (layer: number, head: number): HeadJob => ({
    modelName: name,
    weights: w,
    bos,
    layer,
    head,
    prior,
    priorW,
    priorSource: "bench",
    sizes: { nKeys: 5, nQueries: 20, nOutputs: 20 },
    label: String,
    byteLength: () => 1,
  });
  const ctl = { check: () => {}, blockBytes: BLOCK };
  await analyzeHeadPruned(backend, job(heads[0].layer, heads[0].head), ctl, { points: POINTS }); // warm-up: sessions, probe
  await analyzeHeadDense(backend, job(heads[0].layer, heads[0].head), ctl);
  const dense: number[] = [],
    pruned: number[] = [],
    stats: PruneStats[] = [];
  const loadBefore = load();
  for (const [i, { layer, head }] of heads.entries()) {
    // Alternate which strategy goes first, so a load change between the two hits both alike.
    const runDense = async () => {
      const t = performance.now();
      const d = await analyzeHeadDense(backend, job(layer, head), ctl);
      dense.push((performance.now() - t) / 1000);
      return d;
    };
    const runPruned = async () => {
      const t = performance.now();
      const p = await analyzeHeadPruned(backend, job(layer, head), ctl, { points: POINTS });
      pruned.push((performance.now() - t) / 1000);
      stats.push(p.stats);
      return p;
    };
    let d, p;
    if (i % 2) {
      d = await runDense();
      p = await runPruned();
    } else {
      p = await runPruned();
      d = await runDense();
    }
    if (JSON.stringify(d.report.keys) !== JSON.stringify(p.report.keys)) {
      allSame = false;
      console.log(`  !! L${layer}H${head}: pruned report differs from dense`);
    }
  }
  const int8 = (s: PruneStats, c: "qk" | "ov") => s.int8Rows.find((r) => r.circuit === c)?.rows ?? 0;
  if (name.startsWith("isotropic")) {
    // The floor: the median head's int8 rows, each a V × d_head pass, at the bare kernel's rate.
    const ops = await int8KernelOps(backend, w.config.d_head),
      rows = median(stats.map((s) => int8(s, "qk") + int8(s, "ov"))),
      floor = (2 * rows * V * w.config.d_head) / ops;
    console.log(`  int8 floor: ${rows} rows at the bare MatMulInteger rate ${(ops / 1e9).toFixed(0)} GOPS = ${floor.toFixed(3)} s`);
    record({
      id: "isotropic.head",
      what: `isotropic 48k head (no cheap bound prunes), pruned, ${heads.length} heads`,
      value: median(pruned),
      unit: "s",
      peer: { name: "its int8 passes at the bare int8 kernel's rate", value: floor },
      goal: "≤ 1.5× the int8 floor",
      met: median(pruned) <= 1.5 * floor,
    });
  }
  const ms = (f: (s: PruneStats) => number) => `${median(stats.map(f)).toFixed(0)} ms`;
  console.log(`${name} (V=${V}, d_head=${w.config.d_head}), ${heads.length} heads, load ${loadBefore} → ${load()}:`);
  console.log(`  dense  (ours): median ${median(dense).toFixed(3)} s/head  [${dense.map((x) => x.toFixed(2)).join(", ")}]`);
  console.log(
    `  pruned (ours): median ${median(pruned).toFixed(3)} s/head  [${pruned.map((x) => x.toFixed(2)).join(", ")}]; ` +
      `speed-up ${(median(dense) / median(pruned)).toFixed(2)}×`,
  );
  console.log(
    `    stages (medians): factors ${ms((s) => s.ms.circuits)}, cheap bounds ${ms((s) => s.ms.cheap)}, ` +
      `refined bounds ${ms((s) => s.ms.refine)}, int8 ${ms((s) => s.ms.int8)}, exact ${ms((s) => s.ms.exact)}, report ${ms((s) => s.ms.report)}`,
  );
  const refined = (s: PruneStats) => s.refined.reduce((a, r) => a + r.rows, 0);
  const share = (keys: (s: PruneStats) => number) => pct(median(stats.map((s) => keys(s) / V)));
  console.log(
    `    keys alive after cheap bounds ${share((s) => s.aliveAfterCheap)}; refined ${share(refined)}; ` +
      `int8 rows OV ${share((s) => int8(s, "ov"))}, QK ${share((s) => int8(s, "qk"))}; evaluated exactly ${share((s) => s.evaluated)}; ` +
      `dense fallback on ${stats.filter((s) => s.fellBack).length}`,
  );
  console.log(`    "auto" runs ${resolveStrategy("auto", backend.ep, V)} here`);
  if (numpy && !process.argv.includes("--no-numpy")) {
    const file = join(tempDir("head-lens-bench-"), "processed.safetensors");
    writeFileSync(
      file,
      writeSafetensors(weightsToNamedTensors(w).map(([n, t]) => ({ name: n, dtype: "F32", shape: t.shape, data: t.data }))),
    );
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const peer = spawnSync(
      "python3",
      [join(REPO_ROOT, "bench", "numpy_peer.py"), file, String(heads[0].layer), String(heads[0].head), "3", "65", String(bos)],
      { encoding: "utf8", env },
    );
    if (peer.status === 0) {
      const np = median(JSON.parse(peer.stdout.trim().split("\n").pop()!).seconds);
      console.log(
        `  numpy peer (dense, blocked): median ${np.toFixed(3)} s/head (load ${load()}); pruned is ${(np / median(pruned)).toFixed(2)}× faster`,
      );
    } else console.log(`  numpy peer failed: ${peer.stderr.split("\n").slice(-2).join(" ")}`);
  }
  console.log(`  peak RSS so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await backend.dispose();
}

async function main(): Promise<void> {
  const demo = loadLocalModel(join(REPO_ROOT, "models", "demo-attn-2l"));
  const demoPrior = loadPrior("bundled", {
    vocab: demo.vocab,
    modelDir: demo.dir,
    modelPriorsFile: demo.config.priors,
    mediaDir: join(REPO_ROOT, "media"),
  }).p;
  const demoHeads = Array.from({ length: demo.config.n_layers * demo.config.n_heads }, (_, i) => ({
    layer: Math.floor(i / demo.config.n_heads),
    head: i % demo.config.n_heads,
  }));
  if (!process.argv.includes("--no-demo"))
    await compare("demo-attn-2l", processWeights(demo.weights), demoPrior, demo.vocab.bos, demoHeads, false);
  const V = 48262;
  for (const kind of KINDS) {
    const w = processWeights(KIND_WEIGHTS[kind]({ V, D: 512, H: Math.max(HEADS, 1), E: 64, L: 1, seed: 48262, name: `${kind}-48k` }));
    await compare(
      `${kind} 48k`,
      w,
      uniformPrior(V).p,
      0,
      Array.from({ length: HEADS }, (_, h) => ({ layer: 0, head: h })),
      true,
    );
  }
  if (process.argv.includes("--sweep")) {
    // Where pruning starts to pay: the shapes behind resolveStrategy's "auto" rule.
    for (const [sv, se] of [
      [4096, 32],
      [12288, 32],
      [12288, 64],
      [24000, 64],
      [32768, 64],
      [48262, 32],
    ]) {
      for (const kind of ["isotropic", "trained-like"]) {
        const ws = processWeights(KIND_WEIGHTS[kind]({ V: sv, D: 256, H: 2, E: se, L: 1, seed: 5, name: `${kind}-${sv}-${se}` }));
        await compare(
          `${kind} V=${sv} d_head=${se}`,
          ws,
          uniformPrior(sv).p,
          0,
          [
            { layer: 0, head: 0 },
            { layer: 0, head: 1 },
          ],
          false,
        );
      }
    }
  }
  if (!allSame) {
    console.error("pruned and dense reports differ");
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
