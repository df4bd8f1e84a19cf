/**
 * How quickly Head Lens answers the user while heavy work runs (numbers, not test thresholds:
 * machines here differ and drift). Medians of repeated runs:
 * - cancel latency: an analysis of a 20k-vocabulary model is cancelled at 10 % of its progress;
 *   the time from abort() until the request rejects (the worker checks between streamed blocks);
 * - shutdown: EngineClient.dispose() mid-analysis until the worker has exited by itself
 *   (terminating it inside onnxruntime would abort the process) — and whether it had to be terminated;
 * - the host's event loop while a 48 MB .pth converts in the conversion worker: the worst stall.
 * The peer each is read against: one streamed block of the same analysis, timed in the same run
 * (a cancel cannot land before the block in flight ends).
 *   npm run bench:responsiveness [-- --runs 5]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { prepareLocalPth } from "../src/host/hub/prepareHubModel";
import { TINY_CONFIG, tinyCheckpoint } from "../test/support/hostileInputs";
import { REPO_ROOT, tempDir, testEngine } from "../test/support/engine";
import { randomWeights, writeModelDir } from "../test/support/models";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const BLOCK = 2 * 1024 * 1024;

async function main(): Promise<void> {
  const big = writeModelDir(join(tempDir(), "big"), randomWeights({ V: 20000, D: 64, H: 4, E: 32, L: 1, seed: 7 }), "F16");
  const req = {
    modelDir: big,
    heads: "all" as const,
    priors: "uniform" as const,
    sizes: { nKeys: 3, nQueries: 3, nOutputs: 3 },
    strategy: "dense" as const,
  };

  // Peer: the time between two progress events of an uninterrupted analysis ≈ one streamed block.
  const engine = testEngine(BLOCK);
  const gaps: number[] = [];
  let last = 0;
  await engine.analyze(
    { ...req, heads: [{ layer: 0, head: 0 }] },
    {
      onEvent: (e) => {
        if (e.type !== "progress") return;
        const now = performance.now();
        if (last) gaps.push(now - last);
        last = now;
      },
    },
  );

  const cancel: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ac = new AbortController();
    let at = 0;
    const p = engine.analyze(req, {
      signal: ac.signal,
      onEvent: (e) => e.type === "progress" && e.fraction > 0.1 && !at && ((at = performance.now()), ac.abort()),
    });
    await p.catch(() => undefined);
    cancel.push(performance.now() - at);
  }
  await engine.dispose();

  const shutdown: number[] = [];
  let terminated = 0;
  for (let i = 0; i < runs; i++) {
    let code: number | undefined;
    const e = testEngine(BLOCK, { createWorker: (path, workerData) => new Worker(path, { workerData }).once("exit", (c) => (code = c)) });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const p = e.analyze(req, { onEvent: (ev) => ev.type === "progress" && started() }).catch(() => undefined);
    await running;
    const t0 = performance.now();
    await e.dispose();
    shutdown.push(performance.now() - t0);
    await p;
    if (code !== 0) terminated++;
  }

  const stalls: number[] = [];
  const config = { ...TINY_CONFIG, d_vocab: 32_768, d_model: 192, n_ctx: 16 };
  for (let i = 0; i < runs; i++) {
    const dir = join(tempDir(), `pth${i}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "model.pth"), tinyCheckpoint({ config, mutate: () => {} }));
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    await prepareLocalPth(join(dir, "model.pth"), join(dir, "storage"), { workerPath: join(REPO_ROOT, "dist", "convertWorker.js") });
    delay.disable();
    stalls.push(delay.max / 1e6);
  }

  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`one streamed block (peer), median of ${gaps.length}: ${ms(median(gaps))}`);
  console.log(
    `cancel latency, median of ${runs}: ${ms(median(cancel))} (${(median(cancel) / median(gaps)).toFixed(1)} blocks); all: ${cancel.map(ms).join(", ")}`,
  );
  console.log(`shutdown mid-analysis, median of ${runs}: ${ms(median(shutdown))}; terminated instead of exiting: ${terminated} of ${runs}`);
  console.log(
    `worst event-loop stall while a 48 MB .pth converts, median of ${runs}: ${ms(median(stalls))}; all: ${stalls.map(ms).join(", ")}`,
  );
}

void main();
