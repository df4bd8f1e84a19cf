/**
 * Benchmark: pruned (exact, int8-bounded) vs dense key selection, both ours, and the blocked numpy
 * peer, on a random V = 48 262 / d_model 512 / d_head 64 / 8-head model and on the bundled
 * demo-attn-2l. Median time per head, the whole layer's time, fraction of keys evaluated exactly,
 * same-report check, peak RSS. `--heads 8` times a whole layer of the random model; `--sweep` adds
 * the shapes that set where `auto` picks pruned.
 *
 *   npm run bench:pruned [-- --heads 3] [--sweep]
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { writeSafetensors } from "../src/core/safetensors";
import { priorWeights } from "../src/core/selection";
import { ModelWeights, weightsToNamedTensors } from "../src/core/weights";
import { analyzeHeadDense } from "../src/worker/denseStrategy";
import { HeadJob } from "../src/worker/headJob";
import { OrtBackend } from "../src/worker/ortBackend";
import { analyzeHeadPruned, resolveStrategy } from "../src/worker/prunedStrategy";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { loadPrior, uniformPrior } from "../src/worker/loaders/priors";
import { randomWeights } from "../test/support/models";
import { REPO_ROOT, tempDir } from "../test/support/engine";

const arg = (name: string, dflt: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const HEADS = arg("--heads", 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const BLOCK = 12 * 2 ** 20;

async function compare(name: string, w: ModelWeights, prior: Float64Array, bos: number, heads: { layer: number; head: number }[], numpy: boolean): Promise<void> {
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  const priorW = priorWeights(prior);
  const V = w.config.d_vocab;
  const job = (layer: number, head: number): HeadJob => ({ modelName: name, weights: w, bos, layer, head, prior, priorW, priorSource: "bench", sizes: { nKeys: 5, nQueries: 20, nOutputs: 20 }, label: String, byteLength: () => 1 });
  const ctl = { check: () => {}, blockBytes: BLOCK };
  await analyzeHeadPruned(backend, job(heads[0].layer, heads[0].head), ctl); // warm-up
  const dense: number[] = [], pruned: number[] = [], fractions: number[] = [], bounds: number[] = [];
  let fellBack = 0;
  let same = true;
  for (const { layer, head } of heads) {
    let t = performance.now();
    const d = await analyzeHeadDense(backend, job(layer, head), ctl);
    dense.push((performance.now() - t) / 1000);
    t = performance.now();
    const p = await analyzeHeadPruned(backend, job(layer, head), ctl);
    pruned.push((performance.now() - t) / 1000);
    fractions.push(p.stats.evaluated / V);
    bounds.push(p.stats.boundMs / 1000);
    if (p.stats.fellBack) fellBack++;
    if (JSON.stringify(d.report.keys) !== JSON.stringify(p.report.keys)) same = false;
  }
  console.log(`${name} (V=${V}, d_head=${w.config.d_head}), ${heads.length} heads:`);
  console.log(`  dense  (ours): median ${median(dense).toFixed(3)} s/head  [${dense.map((x) => x.toFixed(2)).join(", ")}]`);
  console.log(`  pruned (ours): median ${median(pruned).toFixed(3)} s/head  [${pruned.map((x) => x.toFixed(2)).join(", ")}]  (bounds ${median(bounds).toFixed(3)} s)`);
  console.log(`  keys evaluated exactly: median ${(100 * median(fractions)).toFixed(1)} %  [${fractions.map((f) => (100 * f).toFixed(1)).join(", ")}]; dense fallback on ${fellBack} of ${heads.length} heads`);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log(`  all ${heads.length} heads: dense ${sum(dense).toFixed(2)} s, pruned ${sum(pruned).toFixed(2)} s; "auto" runs ${resolveStrategy("auto", backend.ep, V, w.config.d_head)}`);
  console.log(`  speed-up pruned vs dense: ${(median(dense) / median(pruned)).toFixed(2)}x; identical reports: ${same}`);
  if (numpy) {
    const file = join(tempDir("head-lens-bench-"), "processed.safetensors");
    writeFileSync(file, writeSafetensors(weightsToNamedTensors(w).map(([n, t]) => ({ name: n, dtype: "F32", shape: t.shape, data: t.data }))));
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const peer = spawnSync("python3", [join(REPO_ROOT, "bench", "numpy_peer.py"), file, String(heads[0].layer), String(heads[0].head), "3", "65", String(bos)], { encoding: "utf8", env });
    if (peer.status === 0) {
      const np = median(JSON.parse(peer.stdout.trim().split("\n").pop()!).seconds);
      console.log(`  numpy peer (dense, blocked): median ${np.toFixed(3)} s/head; pruned is ${(np / median(pruned)).toFixed(2)}x faster`);
    }
  }
  console.log(`  peak RSS so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  await backend.dispose();
}

async function main(): Promise<void> {
  const demo = loadLocalModel(join(REPO_ROOT, "models", "demo-attn-2l"));
  const demoPrior = loadPrior("bundled", { vocab: demo.vocab, modelDir: demo.dir, modelPriorsFile: demo.config.priors, mediaDir: join(REPO_ROOT, "media") }).p;
  const demoHeads = Array.from({ length: demo.config.n_layers * demo.config.n_heads }, (_, i) => ({ layer: Math.floor(i / demo.config.n_heads), head: i % demo.config.n_heads }));
  await compare("demo-attn-2l", processWeights(demo.weights), demoPrior, demo.vocab.bos, demoHeads, false);
  const V = 48262;
  const w = processWeights(randomWeights({ V, D: 512, H: 8, E: 64, L: 1, seed: 48262, name: "random-48k" }));
  await compare("random-48k", w, uniformPrior(V).p, 0, Array.from({ length: HEADS }, (_, h) => ({ layer: 0, head: h })), true);
  if (process.argv.includes("--sweep")) {
    // Where pruning starts to pay: the shapes behind resolveStrategy's "auto" rule.
    for (const [sv, se] of [[12288, 64], [24000, 64], [32768, 64], [48262, 32]]) {
      const ws = processWeights(randomWeights({ V: sv, D: 256, H: 2, E: se, L: 1, seed: 5, name: `random-${sv}-${se}` }));
      await compare(`random V=${sv} d_head=${se}`, ws, uniformPrior(sv).p, 0, [{ layer: 0, head: 0 }, { layer: 0, head: 1 }], false);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
