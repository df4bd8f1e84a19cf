/** The "analyze" request: heads of one model under one prior, streamed as each finishes. */
import { HeadLensError } from "../core/errors";
import { HandlerContext } from "../protocol/channel";
import { PathRef } from "../core/report";
import { AnalyzeEvent, AnalyzeParams, AnalyzeResult, HeadRef } from "../protocol/engine";
import { analyzeHeadDense } from "./denseStrategy";
import { HeadJob } from "./headJob";
import { StoredModel, PriorEntry, ModelStore } from "./modelStore";
import { CancelledError, OrtBackend } from "./ortBackend";
import { analyzeHeadPruned, resolveStrategy } from "./prunedStrategy";
import { analyzePath } from "./pathStrategy";
import { headName } from "../core/headName";

export interface AnalysisDeps {
  store: ModelStore;
  backend: () => Promise<OrtBackend>;
  blockBytes: number;
}

/** Progress is throttled: hundreds of blocks per head would flood the host (and a webview). */
const PROGRESS_STEP = 0.01, PROGRESS_MS = 250;

export async function analyzeHeads(req: AnalyzeParams, ctx: HandlerContext<AnalyzeEvent>, deps: AnalysisDeps): Promise<AnalyzeResult> {
  const t0 = performance.now();
  const check = () => {
    if (ctx.signal.aborted) throw new CancelledError();
  };
  check();
  const be = await deps.backend();
  const stored = deps.store.load(req.modelDir);
  const cfg = stored.model.config;
  let heads = resolveHeads(req.heads, cfg.n_layers, cfg.n_heads);
  if (req.via && req.heads === "all") heads = heads.filter((h) => h.layer > req.via!.layer); // only heads that can compose
  if (req.via) checkPath(req.via, heads, cfg.n_layers, cfg.n_heads);
  const prior = deps.store.prior(stored, req.priors);
  const identity = { model: stored.identity, prior: prior.identity };
  const strategy = resolveStrategy(req.strategy ?? "auto", be.ep, cfg.d_vocab);
  ctx.emit({ type: "started", model: cfg.model_name, ep: be.ep, heads, prior: prior.source, identity, strategy: req.via ? "path" : strategy });
  let lastSent = 0, lastFraction = -1;
  const analyze = strategy === "dense" ? analyzeHeadDense : analyzeHeadPruned;
  for (let i = 0; i < heads.length; i++) {
    const { layer, head } = heads[i];
    const th = performance.now();
    const job = headJob(stored, layer, head, prior, req.sizes);
    const ctl = {
      check, blockBytes: deps.blockBytes,
      progress: (f: number) => {
        const fraction = (i + f) / heads.length, now = performance.now();
        if (fraction - lastFraction < PROGRESS_STEP && now - lastSent < PROGRESS_MS) return;
        lastSent = now;
        lastFraction = fraction;
        ctx.emit({ type: "progress", fraction, layer, head });
      },
    };
    if (req.via) {
      const path = await analyzePath(be, job, req.via, ctl);
      ctx.emit({ type: "head", report: path.report, details: path.details, elapsedMs: performance.now() - th });
      continue;
    }
    const result = await analyze(be, job, ctl);
    stored.importance.set(`${prior.identity}|${layer}:${head}`, result.importance);
    deps.store.rememberCircuits(stored, layer, head, result.circuits);
    ctx.emit({ type: "head", report: result.report, details: result.details, elapsedMs: performance.now() - th });
  }
  return { identity, elapsedMs: performance.now() - t0 };
}

export function headJob(stored: StoredModel, layer: number, head: number, prior: PriorEntry, sizes: AnalyzeParams["sizes"]): HeadJob {
  const vocab = stored.model.vocab;
  return {
    modelName: stored.model.config.model_name, weights: stored.model.weights, bos: vocab.bos, layer, head,
    prior: prior.p, priorW: prior.w, priorSource: prior.source, sizes, label: (id) => vocab.display(id), byteLength: (id) => vocab.bytes(id)?.length,
  };
}

/** A path runs through an existing head of an earlier layer than every head analyzed. */
function checkPath(via: PathRef, heads: HeadRef[], nLayers: number, nHeads: number): void {
  if (!["k", "q", "v"].includes(via.type)) throw new HeadLensError(`path type "${via.type}" is not one of k, q, v`, "request.via");
  resolveHeads([via], nLayers, nHeads);
  const bad = heads.find((h) => h.layer <= via.layer);
  if (bad) throw new HeadLensError(`${headName(bad.layer, bad.head)} cannot compose with ${headName(via.layer, via.head)}: a path runs through a head of an earlier layer`, "request.via");
}

export function resolveHeads(heads: HeadRef[] | "all", nLayers: number, nHeads: number): HeadRef[] {
  if (heads === "all") return Array.from({ length: nLayers * nHeads }, (_, i) => ({ layer: Math.floor(i / nHeads), head: i % nHeads }));
  for (const h of heads) {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= nLayers) throw new HeadLensError(`layer ${h.layer} does not exist: the model has layers 0–${nLayers - 1}`, "request.layer");
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= nHeads) throw new HeadLensError(`head ${h.head} does not exist: the model has heads 0–${nHeads - 1}`, "request.head");
  }
  return heads;
}
