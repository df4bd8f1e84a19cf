/**
 * Benchmark: live attention (the `attention` request) on 256 tokens of natural code with the
 * bundled demo-attn-2l, and on 1 024 random tokens with a V = 48 262, d_model 512, 8 × 64-head,
 * 2-layer model — in process, through the worker as the extension calls it (thumbnails for the
 * panel, then one head's exact pattern), and against a float32 numpy forward pass run in the same
 * script on the same processed weights. Prints medians and the largest differences from numpy.
 *
 * On the 48k model also against PyTorch (bench/torch_attention.py, TransformerLens's maths, 2 threads):
 * the compute in process and through the worker, and `head-lens run` end to end against the torch
 * script end to end, separate processes alternating.
 *
 *   npm run bench:attention [-- --repeats 7 --e2e-reps 5 --torch-rounds 3]
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { writeSafetensors } from "../src/core/safetensors";
import { weightsToNamedTensors } from "../src/core/weights";
import { AttentionEvent, AttentionInput, AttentionResult } from "../src/protocol/attention";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionRuns, runText } from "../src/worker/runText";
import { MEDIA_DIR, REPO_ROOT, tempDir, testEngine } from "../test/support/engine";
import { BIG_MODEL_NAME, writeBigModel } from "./bigModel";
import { record } from "./record";
import { sgemmRate } from "./sgemm";
import { differencesFromTorch, endToEnd, PeerFiles, torchMissing, torchPeer, TorchTimes } from "./torchAttention";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPEATS = arg("--repeats", 7);
const E2E_REPS = arg("--e2e-reps", 5);
const ROUNDS = arg("--torch-rounds", 3);
const BLOCK = 12 * 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (xs: number[]) => `${median(xs).toFixed(1)} ms [${xs.map((x) => x.toFixed(0)).join(", ")}]`;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

interface Case {
  name: string;
  dir: string;
  input: AttentionInput;
}

async function inProcess(
  c: Case,
  backend: OrtBackend,
  store: ModelStore,
): Promise<{ cold: number; first: number[]; total: number[]; result: AttentionResult; patterns: Float32Array[] }> {
  const once = async () => {
    const t0 = performance.now();
    let first = 0,
      patterns: Float32Array[] = [];
    const ctx = {
      emit: (e: AttentionEvent) => {
        first = performance.now() - t0;
        if (e.patterns.kind === "full") patterns = e.patterns.layers;
      },
      signal: new AbortController().signal,
      throwIfCancelled: () => undefined,
    };
    const result = await runText({ modelDir: c.dir, input: c.input, patterns: "full" }, ctx, {
      store,
      runs: new AttentionRuns(),
      backend: async () => backend,
      blockBytes: BLOCK,
    });
    return { first, total: performance.now() - t0, result, patterns };
  };
  const cold = (await once()).first;
  const runs = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await once());
  return { cold, first: runs.map((r) => r.first), total: runs.map((r) => r.total), result: runs[0].result, patterns: runs[0].patterns };
}

async function viaWorker(c: Case): Promise<{ cold: number; first: number[]; total: number[]; head: number[]; thumbBytes: number }> {
  const engine = testEngine(BLOCK);
  try {
    const once = async () => {
      const t0 = performance.now();
      let first = 0,
        thumbBytes = 0;
      const r = await engine.attention(
        { modelDir: c.dir, input: c.input, patterns: "thumbnails" },
        {
          onEvent: (e) => {
            first = performance.now() - t0;
            if (e.patterns.kind === "thumbnails") thumbBytes = e.patterns.layers.reduce((n, l) => n + l.byteLength, 0);
          },
        },
      );
      const total = performance.now() - t0;
      const t1 = performance.now();
      await engine.attentionPattern({ runId: r.runId, layer: r.nLayers - 1, head: 0 });
      return { first, total, head: performance.now() - t1, thumbBytes };
    };
    const cold = (await once()).first;
    const runs = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await once());
    return {
      cold,
      first: runs.map((r) => r.first),
      total: runs.map((r) => r.total),
      head: runs.map((r) => r.head),
      thumbBytes: runs[0].thumbBytes,
    };
  } finally {
    await engine.dispose();
  }
}

/** Time to first patterns while the same worker analyzes a head of the big model (a long, queued job). */
async function duringAnalysis(c: Case, bigDir: string): Promise<{ idle: number; busy: number[]; analysisMs: number }> {
  const engine = testEngine(BLOCK);
  try {
    const first = async () => {
      const t0 = performance.now();
      let t = 0;
      await engine.attention({ modelDir: c.dir, input: c.input, patterns: "thumbnails" }, { onEvent: () => (t = performance.now() - t0) });
      return t;
    };
    await first(); // warm
    const idle = await first();
    const busy: number[] = [];
    const t0 = performance.now();
    let streaming!: () => void;
    const started = new Promise<void>((r) => (streaming = r));
    const analysis = engine.analyze(
      {
        modelDir: bigDir,
        heads: [{ layer: 1, head: 3 }],
        priors: "uniform",
        sizes: { nKeys: 5, nQueries: 20, nOutputs: 20 },
        strategy: "dense",
      },
      {
        onEvent: (e) => e.type === "progress" && streaming(),
      },
    );
    let done = false;
    void analysis.finally(() => (done = true));
    // Once the analysis streams its blocks (model loaded, factors built), runs interleave with them.
    await started;
    while (!done && busy.length < REPEATS) busy.push(await first());
    await analysis;
    return { idle, busy, analysisMs: performance.now() - t0 };
  } finally {
    await engine.dispose();
  }
}

/** The processed weights (as the engine runs them), their config and the ids, for the peers. */
function peerFiles(c: Case, ids: number[], store: ModelStore): PeerFiles {
  const w = store.load(c.dir).model.weights;
  const dir = tempDir("head-lens-bench-");
  const f = { weights: join(dir, "processed.safetensors"), config: join(dir, "config.json"), ids: join(dir, "ids.json") };
  writeFileSync(
    f.weights,
    writeSafetensors(weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype: "F32", shape: t.shape, data: t.data }))),
  );
  writeFileSync(f.config, JSON.stringify(w.config));
  writeFileSync(f.ids, JSON.stringify(ids));
  return f;
}

function numpy(f: PeerFiles): {
  patterns_s: number[];
  total_s: number[];
  pattern_l1h0_row_last: number[];
  next_logprob: number[];
  rank: number[];
  dla_last_layer_h0: number[];
} {
  const r = spawnSync("python3", [join(REPO_ROOT, "bench", "numpy_attention.py"), f.weights, f.config, f.ids, String(REPEATS)], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`numpy peer failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads; ${REPEATS} repeats after one cold run`);
  console.log(`sgemm 2048³ (onnxruntime, this machine now): ${(await sgemmRate()).toFixed(0)} GFLOP/s`);
  const noTorch = torchMissing();
  if (noTorch) console.log(`torch peer skipped: ${noTorch}`);
  const code = readdirSync(join(REPO_ROOT, "test", "fixtures", "natural-code"))
    .sort()
    .map((f) => readFileSync(join(REPO_ROOT, "test", "fixtures", "natural-code", f), "utf8"))
    .join("\n\n");
  const big = writeBigModel();
  const cases: Case[] = [
    { name: "demo-attn-2l, 256 tokens of natural code", dir: join(REPO_ROOT, "models", "demo-attn-2l"), input: { text: code } },
    { name: BIG_MODEL_NAME, dir: big.dir, input: { tokens: big.ids } },
  ];
  for (const c of cases) {
    const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: availableParallelism() });
    const store = new ModelStore(MEDIA_DIR);
    const ip = await inProcess(c, backend, store);
    const T = ip.result.tokens.length,
      L = ip.result.nLayers,
      H = ip.result.nHeads;
    await backend.dispose();
    const wk = await viaWorker(c);
    const ids = ip.result.tokens.map((t) => t.id);
    const files = peerFiles(c, ids, store);
    const np = numpy(files);
    console.log(`\n${c.name} (T = ${T}):`);
    console.log(
      `  engine in process   first patterns ${ms(ip.first)}; all (top-5, next-token fit, DLA) ${ms(ip.total)}; cold first run ${ip.cold.toFixed(0)} ms`,
    );
    console.log(
      `  engine via worker   first patterns ${ms(wk.first)}; all ${ms(wk.total)}; cold ${wk.cold.toFixed(0)} ms; ` +
        `thumbnails ${(wk.thumbBytes / 1024).toFixed(0)} KiB; one exact head ${ms(wk.head)} (${((4 * T * T) / 1024).toFixed(0)} KiB)`,
    );
    console.log(`  numpy float32       patterns ${ms(np.patterns_s.map((s) => s * 1000))}; all ${ms(np.total_s.map((s) => s * 1000))}`);
    console.log(
      `  numpy / engine      patterns ${((median(np.patterns_s) * 1000) / median(ip.first)).toFixed(2)}x; ` +
        `all ${((median(np.total_s) * 1000) / median(ip.total)).toFixed(2)}x`,
    );
    const row = ip.patterns[L - 1].subarray((T - 1) * T, T * T); // head 0 of the last layer, last query
    const lp = ip.result.next.slice(0, -1).map((n) => n!.logProb);
    const dla = Array.from({ length: T - 1 }, (_, t) => ip.result.dla[(t * L + L - 1) * H]);
    const ranks = ip.result.next.slice(0, -1).map((n) => n!.rank);
    if (c === cases[0]) {
      const d = await duringAnalysis(c, cases[1].dir);
      console.log(
        `  while the worker streams a head analysis of the 48k model (${(d.analysisMs / 1000).toFixed(1)} s): ` +
          `first patterns ${ms(d.busy)} (idle worker: ${d.idle.toFixed(0)} ms)`,
      );
    }
    console.log(
      `  max |engine − numpy|: pattern row ${maxDiff(row, np.pattern_l1h0_row_last).toExponential(1)}, ` +
        `next log-prob ${maxDiff(lp, np.next_logprob).toExponential(1)}, DLA ${maxDiff(dla, np.dla_last_layer_h0).toExponential(1)}; ` +
        `ranks equal at ${ranks.filter((r, i) => r === np.rank[i]).length}/${T - 1} positions`,
    );
    if (c === cases[1] && !noTorch) (await torchLines(c, wk, files)).forEach((line) => console.log(line));
  }
}

/**
 * Torch's compute against the engine's in process, alternating (ROUNDS rounds of REPEATS runs each, after
 * each side's cold run; the CPU is shared), through the worker (measured above), its differences, then
 * both end to end.
 */
async function torchLines(c: Case, wk: { total: number[] }, f: PeerFiles): Promise<string[]> {
  const dump = tempDir("head-lens-torch-");
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: availableParallelism() });
  const store = new ModelStore(MEDIA_DIR);
  const e = { first: [] as number[], total: [] as number[] },
    t = { patterns: [] as number[], total: [] as number[] };
  let ip!: Awaited<ReturnType<typeof inProcess>>, peer!: TorchTimes;
  for (let round = 0; round < ROUNDS; round++) {
    ip = await inProcess(c, backend, store);
    e.first.push(...ip.first);
    e.total.push(...ip.total);
    peer = torchPeer(f, REPEATS, round === ROUNDS - 1 ? dump : undefined);
    t.patterns.push(...peer.patterns_s.map((x) => x * 1000));
    t.total.push(...peer.total_s.map((x) => x * 1000));
  }
  await backend.dispose();
  const tp = median(t.patterns),
    tt = median(t.total);
  const what = `live attention, 1 024 tokens, 48k 2 × 8`;
  record({
    id: "attention.patterns",
    what: `${what}: patterns, in process`,
    value: median(e.first),
    unit: "ms",
    peer: { name: "PyTorch (TL's maths, 2 threads)", value: tp },
    goal: "≤ 1.0× torch",
    met: median(e.first) <= tp,
  });
  record({
    id: "attention.all",
    what: `${what}: patterns, top-5, ranks, attributions, in process`,
    value: median(e.total),
    unit: "ms",
    peer: { name: "PyTorch", value: tt },
    goal: "≤ 1.0× torch",
    met: median(e.total) <= tt,
  });
  return [
    `  engine vs torch, alternating (${ROUNDS} rounds × ${REPEATS} runs): engine in process patterns ${ms(e.first)}; all ${ms(e.total)}`,
    `  torch ${peer.torch} float32 (${peer.threads} threads): import ${peer.import_s.toFixed(2)} s, load ${peer.load_s.toFixed(2)} s; ` +
      `patterns ${ms(t.patterns)}; all ${ms(t.total)}; cold all ${(peer.cold_total_s * 1000).toFixed(0)} ms`,
    `  engine / torch      patterns ${(median(e.first) / tp).toFixed(2)}× in process; all ${(median(e.total) / tt).toFixed(2)}× in process, ` +
      `${(median(wk.total) / tt).toFixed(2)}× via worker (not alternated) (≤ 1.00× is the goal)`,
    `  ${differencesFromTorch(dump, ip.result, ip.patterns)}`,
    ...endToEnd(c.dir, (c.input as { tokens: number[] }).tokens, f, E2E_REPS),
  ];
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
