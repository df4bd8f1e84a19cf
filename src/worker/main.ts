/** Engine worker thread: loads models, runs head analyses on onnxruntime, streams results. */
import { parentPort, workerData } from "node:worker_threads";
import { statSync } from "node:fs";
import { join } from "node:path";
import { HeadCircuits } from "../core/circuits";
import { errorMessage, HeadLensError, isHeadLensError } from "../core/errors";
import { processWeights } from "../core/processing";
import { priorWeights } from "../core/selection";
import { ModelWeights } from "../core/weights";
import { LoadedModel, loadLocalModel } from "./loaders/localModel";
import { loadPrior, PriorSpec } from "./loaders/priors";
import { analyzeHeadDense, circuitsFor, HeadJob, ImportanceIntervals, tokenInHead } from "./denseStrategy";
import { CancelledError, OrtBackend } from "./ortBackend";
import { analyzeHeadPruned, resolveStrategy } from "./prunedStrategy";
import { AnalyzeRequest, HeadRef, HostToWorker, TokenRequest, WorkerConfig, WorkerToHost } from "../protocol/engine";

const config = workerData as WorkerConfig;
const port = parentPort!;
const send = (m: WorkerToHost) => port.postMessage(m);
const log = (message: string) => send({ type: "log", message });

interface PriorEntry {
  source: string;
  p: Float64Array;
  w: Float64Array;
}

interface CachedModel {
  stamp: string;
  model: LoadedModel;
  processed: ModelWeights;
  priors: Map<string, PriorEntry>;
  /** Importance of every key of analyzed heads, by `${layer}:${head}:${prior}` (for hover ranks). */
  importance: Map<string, ImportanceIntervals>;
}
const models = new Map<string, CachedModel>();
/** The most recently used head circuits (hovers ask about the head on screen, repeatedly). */
let lastCircuits: { key: string; circuits: HeadCircuits } | undefined;
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
  queue = queue.then(() => (msg.type === "analyze" ? analyze(msg.requestId, msg.request, new Int32Array(msg.cancel)) : token(msg.requestId, msg.request)));
});

function fail(requestId: number, e: unknown): void {
  send({ type: "error", requestId, message: errorMessage(e), code: isHeadLensError(e) ? (e as HeadLensError).code : "internal" });
}

async function analyze(requestId: number, req: AnalyzeRequest, cancel: Int32Array): Promise<void> {
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
    const prior = priorFor(cached, req.priors);
    send({ type: "started", requestId, model: cfg.model_name, ep: be.ep, heads, prior: prior.source });
    // Progress is throttled: hundreds of blocks per head would flood the host (and a webview) with messages.
    let lastSent = 0, lastFraction = -1;
    const analyze = resolveStrategy(req.strategy ?? "auto", be.ep, cfg.d_vocab, cfg.d_head) === "dense" ? analyzeHeadDense : analyzeHeadPruned;
    for (let i = 0; i < heads.length; i++) {
      const { layer, head } = heads[i];
      const th = performance.now();
      const result = await analyze(be, job(cached, layer, head, prior, req.sizes), {
        check, blockBytes: config.blockBytes,
        progress: (f) => {
          const fraction = (i + f) / heads.length, now = performance.now();
          if (fraction - lastFraction < 0.01 && now - lastSent < 250) return;
          lastSent = now;
          lastFraction = fraction;
          send({ type: "progress", requestId, fraction, layer, head });
        },
      });
      cached.importance.set(`${layer}:${head}:${JSON.stringify(req.priors)}`, result.importance);
      lastCircuits = { key: `${req.modelDir}|${layer}:${head}`, circuits: result.circuits };
      send({ type: "head", requestId, report: result.report, details: result.details, elapsedMs: performance.now() - th });
    }
    send({ type: "done", requestId, elapsedMs: performance.now() - t0 });
  } catch (e) {
    fail(requestId, e);
  }
}

async function token(requestId: number, req: TokenRequest): Promise<void> {
  try {
    const be = await backend();
    const cached = loadModel(req.modelDir);
    const cfg = cached.model.config;
    const [{ layer, head }] = resolveHeads([{ layer: req.layer, head: req.head }], cfg.n_layers, cfg.n_heads);
    if (!Number.isInteger(req.tokenId) || req.tokenId < 0 || req.tokenId >= cfg.d_vocab) {
      throw new HeadLensError(`token id ${req.tokenId} is outside the vocabulary (0–${cfg.d_vocab - 1})`, "request.token");
    }
    const prior = priorFor(cached, req.priors);
    const key = `${req.modelDir}|${layer}:${head}`;
    if (lastCircuits?.key !== key) lastCircuits = { key, circuits: await circuitsFor(be, { weights: cached.processed, layer, head, bos: cached.model.vocab.bos }) };
    const full = cached.importance.get(`${layer}:${head}:${JSON.stringify(req.priors)}`);
    const result = tokenInHead(lastCircuits.circuits, req.tokenId, layer, head, prior.w, req.n, (id) => cached.model.vocab.display(id), full);
    send({ type: "token", requestId, result });
  } catch (e) {
    fail(requestId, e);
  }
}

function job(cached: CachedModel, layer: number, head: number, prior: PriorEntry, sizes: AnalyzeRequest["sizes"]): HeadJob {
  const vocab = cached.model.vocab;
  return {
    modelName: cached.model.config.model_name, weights: cached.processed, bos: vocab.bos, layer, head,
    prior: prior.p, priorW: prior.w, priorSource: prior.source, sizes, label: (id) => vocab.display(id), byteLength: (id) => vocab.bytes(id)?.length,
  };
}

function loadModel(dir: string): CachedModel {
  const stamp = fileStamp(join(dir, "config.json")) + "|" + fileStamp(join(dir, "model.safetensors"));
  const hit = models.get(dir);
  if (hit && hit.stamp === stamp) return hit;
  const raw = loadLocalModel(dir);
  const processed = processWeights(raw.weights);
  // Keep only the processed copy: the raw one would double the memory of a 48k-vocab model.
  const entry: CachedModel = { stamp, model: { ...raw, weights: processed }, processed, priors: new Map(), importance: new Map() };
  models.set(dir, entry);
  return entry;
}

function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : "missing";
}

function priorFor(cached: CachedModel, spec: PriorSpec): PriorEntry {
  const key = JSON.stringify(spec);
  let entry = cached.priors.get(key);
  if (!entry) {
    const prior = loadPrior(spec, {
      vocab: cached.model.vocab, modelDir: cached.model.dir, modelPriorsFile: cached.model.config.priors, mediaDir: config.mediaDir,
    });
    entry = { source: prior.source, p: prior.p, w: priorWeights(prior.p) };
    cached.priors.set(key, entry);
  }
  return entry;
}

function resolveHeads(heads: HeadRef[] | "all", nLayers: number, nHeads: number): HeadRef[] {
  if (heads === "all") return Array.from({ length: nLayers * nHeads }, (_, i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads }));
  for (const h of heads) {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= nLayers) throw new HeadLensError(`layer ${h.layer} does not exist: the model has layers 0–${nLayers - 1}`, "request.layer");
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= nHeads) throw new HeadLensError(`head ${h.head} does not exist: the model has heads 0–${nHeads - 1}`, "request.head");
  }
  return heads;
}
