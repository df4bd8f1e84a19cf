/**
 * Engine worker entry: the only owner of model state. Serves the EngineApi over the channel:
 * cheap requests (describe, identify, hover, answers from the result cache) at once — onnxruntime
 * yields between blocks, so they are answered even while an analysis streams — and heavy work
 * (analyses, metrics, the token table) one request at a time, in order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage, HeadLensError, isHeadLensError } from "../core/errors";
import { Channel, nodePort } from "../protocol/channel";
import { EngineApi, EngineHostApi, WorkerConfig } from "../protocol/engine";
import { analyzeHeads } from "./analyzeHeads";
import { hoverInfo } from "./hoverInfo";
import { lightMetrics } from "./lightMetrics";
import { metricsRequest } from "./modelMetrics";
import { ModelStore } from "./modelStore";
import { OrtBackend } from "./ortBackend";
import { ResultCache } from "./resultCache";
import { explain } from "./explain";
import { patch } from "./patching";
import { AttentionRuns, runText } from "./runText";
import { tokenHeads } from "./tokenHeads";

const config = workerData as WorkerConfig;
const port = parentPort!;
const channel = new Channel<EngineApi, EngineHostApi>(nodePort(port));
const log = (message: string, warning?: boolean) => channel.notify("log", warning ? { message, warning } : { message });
let backendPromise: Promise<OrtBackend> | undefined;
const backend = () =>
  (backendPromise ??= OrtBackend.create({ epPreference: config.epPreference, threads: config.threads, ortRoot: config.ortRoot, log }));

/** Heavy requests run one at a time: the next starts when the previous settles. */
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

const deps = {
  store: new ModelStore(config.mediaDir),
  cache: config.cacheDir ? new ResultCache(config.cacheDir) : undefined,
  runs: new AttentionRuns(),
  backend,
  blockBytes: config.blockBytes,
  exclusive,
};

/** Unexpected failures (not HeadLensErrors) are logged with their stack before they reach the host. */
function logged<A extends unknown[], R>(method: string, handler: (...args: A) => Promise<R> | R): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (e) {
      if (!isHeadLensError(e)) log(`${method} failed: ${e instanceof Error && e.stack ? e.stack : errorMessage(e)}`);
      throw e;
    }
  };
}

channel
  .serve(
    "describe",
    logged("describe", ({ modelDir }) => deps.store.describe(modelDir)),
  )
  .serve(
    "identify",
    logged("identify", (req) => deps.store.identify(req)),
  )
  .serve(
    "hover",
    logged("hover", (req) => hoverInfo(req, deps.store, backend)),
  )
  .serve(
    "token",
    logged("token", (req, ctx) => exclusive(() => tokenHeads(req, ctx, deps))),
  )
  .serve(
    "metrics",
    logged("metrics", (req) => metricsRequest(req.modelDir, deps)),
  )
  .serve(
    "lightMetrics",
    logged("lightMetrics", async (req) => exclusive(async () => lightMetrics(req, await backend()))),
  )
  // Not queued behind analyses: one forward pass is cheap and runs between their blocks.
  .serve(
    "attention",
    logged("attention", (req, ctx) => runText(req, ctx, deps)),
  )
  .serve(
    "attentionPattern",
    logged("attentionPattern", (req) => deps.runs.pattern(req)),
  )
  .serve(
    "patch",
    logged("patch", (req, ctx) => patch(req, ctx, deps)),
  )
  .serve(
    "explain",
    logged("explain", (req) => explain(req, deps.runs)),
  )
  // Answers from the cache at once; what must be computed waits its turn (exclusive).
  .serve(
    "analyze",
    logged("analyze", (req, ctx) => analyzeHeads(req, ctx, deps)),
  )
  .serve("shutdown", () => {
    channel.close(new HeadLensError("the engine is shutting down", "engine.disposed")); // aborts running requests
    const exitWhenIdle = () => (channel.serving === 0 ? process.exit(0) : setTimeout(exitWhenIdle, 5));
    setImmediate(exitWhenIdle);
  });
