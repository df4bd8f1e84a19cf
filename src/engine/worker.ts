/** Engine worker thread: loads models, runs head analyses on onnxruntime, streams results. */
import { parentPort, workerData } from "node:worker_threads";
import { statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage, HeadLensError, isHeadLensError } from "../core/errors";
import { processWeights } from "../core/processing";
import { priorWeights } from "../core/selection";
import { ModelWeights } from "../core/weights";
import { LoadedModel, loadLocalModel } from "../models/localModel";
import { describePriorSpec, loadPrior, PriorSpec } from "../models/priors";
import { analyzeHeadDense } from "./headAnalysis";
import { CancelledError, OrtBackend } from "./ortBackend";
import { AnalyzeRequest, HeadRef, HostToWorker, WorkerConfig, WorkerToHost } from "./protocol";

const config = workerData as WorkerConfig;
const port = parentPort!;
const send = (m: WorkerToHost) => port.postMessage(m);
const log = (message: string) => send({ type: "log", message });

interface CachedModel {
  stamp: string;
  model: LoadedModel;
  processed: ModelWeights;
  priors: Map<string, Float64Array>;
}
const models = new Map<string, CachedModel>();
let backendPromise: Promise<OrtBackend> | undefined;
const backend = () => (backendPromise ??= OrtBackend.create({ epPreference: config.epPreference, threads: config.threads, log }));
let queue = Promise.resolve();

port.on("message", (msg: HostToWorker) => {
  if (msg.type === "crashForTesting") {
    setImmediate(() => {
      throw new Error("crash requested for testing");
    });
    return;
  }
  // One request at a time: the next starts when the previous settles.
  queue = queue.then(() => handle(msg.requestId, msg.request, new Int32Array(msg.cancel)));
});

async function handle(requestId: number, req: AnalyzeRequest, cancel: Int32Array): Promise<void> {
  const t0 = performance.now();
  const check = () => {
    if (Atomics.load(cancel, 0) !== 0) throw new CancelledError();
  };
  try {
    check();
    const be = await backend();
    const cached = loadModel(req.modelDir);
    const cfg = cached.model.config;
    const heads = resolveHeads(req.heads, cfg.n_layers, cfg.n_heads);
    const priorW = priorFor(cached, req.priors);
    send({ type: "started", requestId, model: cfg.model_name, ep: be.ep, heads, prior: describePriorSpec(req.priors) });
    for (let i = 0; i < heads.length; i++) {
      const { layer, head } = heads[i];
      const th = performance.now();
      const report = await analyzeHeadDense(be, {
        modelName: cfg.model_name, weights: cached.processed, bos: cached.model.vocab.bos, layer, head, priorW,
        sizes: req.sizes, label: (id) => cached.model.vocab.display(id),
      }, {
        check, blockBytes: config.blockBytes,
        progress: (f) => send({ type: "progress", requestId, fraction: (i + f) / heads.length, layer, head }),
      });
      send({ type: "head", requestId, report, elapsedMs: performance.now() - th });
    }
    send({ type: "done", requestId, elapsedMs: performance.now() - t0 });
  } catch (e) {
    send({ type: "error", requestId, message: errorMessage(e), code: isHeadLensError(e) ? (e as HeadLensError).code : "internal" });
  }
}

function loadModel(dir: string): CachedModel {
  const stamp = fileStamp(join(dir, "config.json")) + "|" + fileStamp(join(dir, "model.safetensors"));
  const hit = models.get(dir);
  if (hit && hit.stamp === stamp) return hit;
  const raw = loadLocalModel(dir);
  const processed = processWeights(raw.weights);
  // Keep only the processed copy: the raw one would double the memory of a 48k-vocab model.
  const entry = { stamp, model: { ...raw, weights: processed }, processed, priors: new Map<string, Float64Array>() };
  models.set(dir, entry);
  return entry;
}

function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : "missing";
}

function priorFor(cached: CachedModel, spec: PriorSpec): Float64Array {
  const key = JSON.stringify(spec);
  let w = cached.priors.get(key);
  if (!w) {
    const prior = loadPrior(spec, {
      vocab: cached.model.vocab, modelDir: cached.model.dir, modelPriorsFile: cached.model.config.priors, mediaDir: config.mediaDir,
    });
    w = priorWeights(prior.p);
    cached.priors.set(key, w);
  }
  return w;
}

function resolveHeads(heads: HeadRef[] | "all", nLayers: number, nHeads: number): HeadRef[] {
  if (heads === "all") return Array.from({ length: nLayers * nHeads }, (_, i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads }));
  for (const h of heads) {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= nLayers) throw new HeadLensError(`layer ${h.layer} does not exist: the model has layers 0–${nLayers - 1}`, "request.layer");
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= nHeads) throw new HeadLensError(`head ${h.head} does not exist: the model has heads 0–${nHeads - 1}`, "request.head");
  }
  return heads;
}
