/**
 * Benchmark: the light timeline of 16 checkpoints of a real-size 2-layer model (V = 48 262,
 * d_model 512, 8 heads of 64, n_ctx 2 048: ≈ 217 MB each, random weights in the real shapes) served
 * by the hub stand-in (LFS on another host, ranges), through the CLI as a user runs it (process
 * start included), against the peer a notebook runs today — downloading every checkpoint whole
 * (HookedTransformer.from_pretrained(checkpoint_index=…)) — over the same stand-in, side by side;
 * then the same timeline again from the cache. Budget (issue #24): ≤ 30 s for the first run.
 *
 *   npm run bench:timeline [-- --checkpoints 16 --repeats 3]
 */
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { rmSync, writeFileSync } from "node:fs";
import { HubClient } from "../src/host/hub/hubClient";
import { tensor } from "../src/core/tensor";
import { ModelWeights } from "../src/core/weights";
import { neelConfig, torchStateDict } from "../test/support/checkpointFixtures";
import { runCliAsync } from "../test/support/cliProcess";
import { REPO_ROOT, tempDir } from "../test/support/engine";
import { startFakeHub } from "../test/support/fakeHub";
import { sgemmRate } from "./sgemm";
import { randomWeights } from "../test/support/models";
import { cpSync, mkdirSync } from "node:fs";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("--checkpoints", 16);
const REPEATS = arg("--repeats", 3);
/** --verbose: print the first run's steps with their times. */
const VERBOSE = process.argv.includes("--verbose");
const REPO = "NeelNanda/Attn_Only_2L512W_C4_Code";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(2)} s [${xs.map((x) => x.toFixed(2)).join(", ")}]`;

/** Checkpoint k: the base weights scaled by 1 + k/100 (distinct bytes, no regeneration). */
function scaled(base: ModelWeights, k: number): ModelWeights {
  const f = 1 + k / 100;
  const s = (t: { shape: number[]; data: Float32Array }) =>
    tensor(
      t.shape,
      t.data.map((x) => x * f),
    );
  return { ...base, W_E: s(base.W_E), W_U: s(base.W_U), blocks: base.blocks.map((b) => ({ ...b, W_Q: s(b.W_Q), W_K: s(b.W_K) })) };
}

async function main() {
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads; ${N} checkpoints, medians of ${REPEATS} runs`);
  console.log(`sgemm 2048³ (onnxruntime, this machine now): ${(await sgemmRate()).toFixed(0)} GFLOP/s`);
  const root = tempDir("head-lens-bench-timeline-hub-");
  const t0 = performance.now();
  const base = randomWeights({ V: 48262, D: 512, H: 8, E: 64, L: 2, seed: 24, bos: 1 });
  base.config.n_ctx = 2048;
  base.W_pos = tensor(
    [2048, 512],
    new Float32Array(2048 * 512).map((_, i) => Math.sin(i * 12.9898) * 0.1),
  );
  mkdirSync(join(root, REPO, "checkpoints"), { recursive: true });
  writeFileSync(join(root, REPO, "config.json"), JSON.stringify(neelConfig(base)));
  const labels = Array.from({ length: N }, (_, k) => Math.round(10 ** (5 + (4 * k) / Math.max(1, N - 1))));
  let size = 0;
  labels.forEach((label, k) => {
    const bytes = torchStateDict(scaled(base, k));
    size = bytes.length;
    writeFileSync(join(root, REPO, "checkpoints", `Attn_Only_2L512W_C4_Code_${label}.pth`), bytes);
  });
  const tokenizer = "NeelNanda/gpt-neox-tokenizer-digits";
  cpSync(join(REPO_ROOT, "test", "fixtures", "hub", tokenizer), join(root, tokenizer), { recursive: true });
  console.log(
    `fixture: ${N} checkpoints of ${(size / 2 ** 20).toFixed(1)} MiB written in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  const hub = await startFakeHub(root, "t");
  const ours: number[] = [],
    cached: number[] = [],
    peer: number[] = [];
  let readShare = 0,
    requests = 0;
  try {
    for (let r = 0; r < REPEATS; r++) {
      const cache = tempDir("head-lens-bench-timeline-cache-");
      const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(cache, "hub"), XDG_CACHE_HOME: cache, HF_HUB_OFFLINE: "" };
      hub.requests.length = 0;
      const first = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", String(N), "--json"], {
        ...env,
        ...(VERBOSE ? { HEAD_LENS_VERBOSE: "1" } : {}),
      });
      if (first.status !== 0) throw new Error(first.stderr);
      if (VERBOSE) console.log(first.stderr);
      ours.push(first.seconds);
      const cdn = hub.requests.filter((q) => q.host === "cdn" && q.method === "GET");
      readShare = cdn.reduce((n, q) => n + (q.bytes ?? 0), 0) / (N * size);
      requests = hub.requests.length;
      const again = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", String(N), "--json"], env);
      cached.push(again.seconds);
      // The peer: every checkpoint downloaded whole into the HF cache (no conversion, no metrics).
      const client = new HubClient({ endpoint: hub.url, cacheDir: join(cache, "peer") });
      const p0 = performance.now();
      for (const label of labels) await client.download(REPO, "main", `checkpoints/Attn_Only_2L512W_C4_Code_${label}.pth`);
      peer.push((performance.now() - p0) / 1000);
      rmSync(cache, { recursive: true, force: true });
    }
  } finally {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`light timeline, first run (CLI, process start included): ${fmt(ours)}  — budget 30 s`);
  const each = ((readShare * size) / 2 ** 20).toFixed(2);
  console.log(`  read ${(100 * readShare).toFixed(2)} % of the checkpoints' bytes (${each} MiB each), ${requests} HTTP requests in all`);
  console.log(`light timeline, second run (all from the cache): ${fmt(cached)}`);
  console.log(`peer: downloading the ${N} checkpoints whole from the same stand-in: ${fmt(peer)}`);
  console.log(`ratio first run / peer: ${(median(ours) / median(peer)).toFixed(2)}×`);
}

void main();
