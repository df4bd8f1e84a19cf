import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { crashableEngine, tempDir, testEngine } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";
import { HeadLensError } from "../src/core/errors";
import { OrtBackend } from "../src/worker/ortBackend";
import { Worker } from "node:worker_threads";

const { engine, crash } = crashableEngine(2 * 1024 * 1024);
after(() => engine.dispose());
let big = "",
  small = "";
before(() => {
  // Large enough that analyzing every head takes seconds: cancellation lands mid-stream.
  big = writeModelDir(join(tempDir(), "big"), randomWeights({ V: 20000, D: 64, H: 4, E: 32, L: 1, seed: 7 }), "F16");
  small = writeModelDir(join(tempDir(), "small"), randomWeights({ V: 200, D: 16, H: 2, E: 4, L: 1, seed: 8 }), "F32");
});

const req = (modelDir: string) => ({
  modelDir,
  heads: "all" as const,
  priors: "uniform" as const,
  sizes: { nKeys: 3, nQueries: 3, nOutputs: 3 },
});

// How fast a cancel lands is measured in bench/responsiveness.ts, not asserted here.
test("cancellation stops the worker mid-stream and the engine stays usable", async () => {
  const ac = new AbortController();
  let aborted = false;
  const heads: number[] = [];
  const p = engine.analyze(req(big), {
    signal: ac.signal,
    onEvent: (e) => {
      if (e.type === "head") heads.push(e.report.head);
      if (e.type === "progress" && e.fraction > 0.1 && !aborted) {
        aborted = true;
        ac.abort();
      }
    },
  });
  await assert.rejects(p, (e: HeadLensError) => e.code === "cancelled");
  assert.ok(aborted, "progress was reported before the end");
  assert.ok(heads.length < 4, `stopped before finishing (got ${heads.length} heads)`);
  const after = await engine.analyze(req(small));
  assert.equal(after.length, 2);
});

test("an already-aborted signal rejects at once", async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(engine.analyze(req(small), { signal: ac.signal }), /cancelled/);
});

test("a crashed worker fails the pending request clearly and is replaced", async () => {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const p = engine.analyze(req(big), { onEvent: (e) => e.type === "progress" && started() });
  await running;
  crash();
  await assert.rejects(p, (e: HeadLensError) => e.code === "engine.crashed" && /crashed .*restarted/.test(e.message));
  const again = await engine.analyze(req(small));
  assert.equal(again.length, 2);
});

test("execution providers fall back in order with a logged reason, and the result says which ran", async () => {
  const log: string[] = [];
  const be = await OrtBackend.create({ epPreference: ["tpu" as never, "webgpu", "cpu"], log: (m: string) => log.push(m) });
  assert.ok(["webgpu", "cpu"].includes(be.ep));
  assert.ok(
    log.some((l) => /tpu: unknown execution provider/.test(l)),
    log.join("\n"),
  );
  if (be.ep === "cpu")
    assert.ok(
      log.some((l) => /webgpu failed to initialize/.test(l)),
      log.join("\n"),
    );
  await be.dispose();
  await assert.rejects(OrtBackend.create({ epPreference: ["tpu" as never] }), /no execution provider could be initialized.*include "cpu"/);
});

test("shutting the engine down mid-analysis ends the worker between runs (terminating it inside onnxruntime would abort the process)", async () => {
  let exitCode: number | undefined;
  const other = testEngine(2 * 1024 * 1024, {
    createWorker: (path, workerData) => {
      const w = new Worker(path, { workerData });
      w.once("exit", (code) => (exitCode = code));
      return w;
    },
  });
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const p = other.analyze(req(big), { onEvent: (e) => e.type === "progress" && started() });
  const outcome = p.then(
    () => "finished",
    (e: Error) => e.message,
  );
  await running;
  await other.dispose();
  assert.match(await outcome, /shut down/);
  // The worker ended itself (process.exit(0) between two runs); a terminated one exits with 1.
  assert.equal(exitCode, 0);
});
