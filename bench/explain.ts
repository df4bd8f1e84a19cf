/**
 * Benchmark: "why" (the `explain` request) for one query of head L1H0 on a run already kept — the
 * last of 1 024 tokens of the V = 48 262, 2 × 8 model, and a second-copy position of `BOS r r` on
 * the bundled demo-attn-2l — in process (every key, as `head-lens explain --json`; one key, as the
 * panel asks), through the worker as the extension calls it, and against numpy computing the same
 * terms from a cache the way a TransformerLens notebook does (bench/numpy_explain.py), side by side.
 *
 *   npm run bench:explain [-- --repeats 15]
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { writeSafetensors } from "../src/core/safetensors";
import { weightsToNamedTensors } from "../src/core/weights";
import { explain } from "../src/worker/explain";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionRuns } from "../src/worker/runText";
import { MEDIA_DIR, REPO_ROOT, tempDir, testEngine } from "../test/support/engine";
import { keptRun } from "../test/support/keptRun";
import { BIG_MODEL_NAME, writeBigModel } from "./bigModel";
import { median, record } from "./record";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPEATS = arg("--repeats", 15);
const BLOCK = 12 * 1024 * 1024;
const ms = (xs: number[]) => `${median(xs).toFixed(1)} ms [${xs.map((x) => x.toFixed(1)).join(", ")}]`;
const timed = async (f: () => unknown) => {
  const out: number[] = [];
  for (let i = 0; i <= REPEATS; i++) {
    const t0 = performance.now();
    await f();
    if (i > 0) out.push(performance.now() - t0); // the first is a warm-up
  }
  return out;
};

function numpyPeer(store: ModelStore, dir: string, ids: number[], query: number): { seconds: number[]; terms_last_key: number[] } {
  const w = store.load(dir).model.weights; // processed, as the engine runs them
  const tmp = tempDir("head-lens-bench-");
  const file = join(tmp, "processed.safetensors");
  writeFileSync(
    file,
    writeSafetensors(weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, data: t.data }))),
  );
  writeFileSync(join(tmp, "config.json"), JSON.stringify(w.config));
  writeFileSync(join(tmp, "ids.json"), JSON.stringify(ids));
  const args = [
    join(REPO_ROOT, "bench", "numpy_explain.py"),
    file,
    join(tmp, "config.json"),
    join(tmp, "ids.json"),
    "1",
    "0",
    String(query),
    String(REPEATS),
  ];
  const r = spawnSync("python3", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`numpy peer failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

async function bench(name: string, dir: string, ids: number[], query: number): Promise<void> {
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: availableParallelism() });
  const store = new ModelStore(MEDIA_DIR);
  const runs = new AttentionRuns();
  const runId = await keptRun({ store, runs, backend }, dir, ids);
  const req = { runId, layer: 1, head: 0, query };
  const every = await timed(() => explain(req, runs));
  const key = explain(req, runs).strongestKey;
  const one = await timed(() => explain({ ...req, key }, runs));
  const last = explain({ ...req, key: query }, runs);
  await backend.dispose();

  const engine = testEngine(BLOCK);
  let worker: number[];
  try {
    const r = await engine.attention({ modelDir: dir, input: { tokens: ids }, patterns: "thumbnails" });
    worker = await timed(() => engine.explain({ runId: r.runId, layer: 1, head: 0, query, key }));
  } finally {
    await engine.dispose();
  }
  const np = numpyPeer(store, dir, ids, query);
  let diff = 0;
  np.terms_last_key.forEach((t, i) => (diff = Math.max(diff, Math.abs(t - last.terms[i]))));
  const C = last.components.length;
  console.log(`\n${name}: L1H0, query ${query} (${query + 1} keys, ${C} × ${C} terms per key)`);
  console.log(`  engine in process   every key ${ms(every)}; one key (the panel's request) ${ms(one)}`);
  console.log(`  engine via worker   one key ${ms(worker)}`);
  console.log(`  numpy from a cache  every key ${ms(np.seconds.map((s) => s * 1000))}`);
  console.log(`  numpy / engine      every key ${((median(np.seconds) * 1000) / median(every)).toFixed(2)}x`);
  console.log(`  max |engine − numpy| over the last key's terms: ${diff.toExponential(1)}`);
  if (name === BIG_MODEL_NAME)
    record({
      id: "explain",
      what: `"why" for one query of L1H0, every key (${query + 1}), 48k 2 × 8, in process`,
      value: median(every),
      unit: "ms",
      peer: { name: "numpy from a cache", value: median(np.seconds) * 1000 },
      goal: "≤ 100 ms",
      met: median(every) <= 100,
    });
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads; medians of ${REPEATS} repeats after one warm-up`);
  const big = writeBigModel();
  await bench(BIG_MODEL_NAME, big.dir, big.ids, big.ids.length - 1);
  let x = 11;
  const r = Array.from({ length: 20 }, () => 1 + ((x = (x * 48271) % 2147483647) % 12287));
  await bench("demo-attn-2l, BOS r r (r = 20 random tokens)", join(REPO_ROOT, "models", "demo-attn-2l"), [0, ...r, ...r], 33);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
