/**
 * The "analyze" request: heads of one model under one prior, streamed as each finishes. The cache
 * answers first (the identity is computed from the files, no weight loaded), then the heads it does
 * not hold are computed, one request at a time, and kept.
 */
import { HeadRef } from "../core/heads";
import { ReportSettings } from "../core/reportSettings";
import { HandlerContext } from "../protocol/channel";
import { AnalyzeEvent, AnalyzeParams, AnalyzeResult, HeadResult, Identity } from "../protocol/engine";
import { AnalysisDeps, HeadAnalyzer, resolveHeads, resolvePathHeads } from "./headAnalyzer";
import { ResultCache } from "./resultCache";

export interface AnalyzeDeps extends AnalysisDeps {
  /** The results kept across requests and sessions (the extension's); none: every head is computed (the CLI, tests). */
  cache?: ResultCache;
  /** Runs heavy work one request at a time. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
}

/** Progress is throttled: hundreds of blocks per head would flood the host (and a webview). */
const PROGRESS_STEP = 0.01,
  PROGRESS_MS = 250;

export async function analyzeHeads(req: AnalyzeParams, ctx: HandlerContext<AnalyzeEvent>, deps: AnalyzeDeps): Promise<AnalyzeResult> {
  const t0 = performance.now();
  ctx.throwIfCancelled();
  const { identity, config } = deps.store.lookup(req);
  const heads = req.via
    ? resolvePathHeads(req.heads, req.via, config.n_layers, config.n_heads)
    : resolveHeads(req.heads, config.n_layers, config.n_heads);
  const settings: ReportSettings = { ...req.sizes, prior: req.priors };
  const hits = new Map<HeadRef, HeadResult>();
  for (const h of heads) {
    const hit = deps.cache?.get(ResultCache.key(identity, req.sizes, req.via), h);
    if (hit) hits.set(h, hit);
  }
  const computing = heads.filter((h) => !hits.has(h));
  ctx.emit({ type: "identified", identity, cached: [...hits.keys()], computing });
  for (const hit of hits.values()) ctx.emit({ type: "head", ...hit, cached: true });
  if (computing.length === 0 || req.cachedOnly) return { identity, elapsedMs: performance.now() - t0 };
  const computedFrom = await deps.exclusive(() => compute(req, computing, settings, ctx, deps));
  return { identity: computedFrom, elapsedMs: performance.now() - t0 };
}

/** Computes heads and keeps each under the identity it was actually computed from (a file may have changed meanwhile). */
async function compute(
  req: AnalyzeParams,
  heads: HeadRef[],
  settings: ReportSettings,
  ctx: HandlerContext<AnalyzeEvent>,
  deps: AnalyzeDeps,
): Promise<Identity> {
  ctx.throwIfCancelled();
  const analyzer = await HeadAnalyzer.open(deps, req);
  const { identity, prior, stored } = analyzer;
  const key = ResultCache.key(identity, req.sizes, req.via);
  ctx.emit({
    type: "started",
    model: stored.model.config.model_name,
    ep: analyzer.backend.ep,
    heads,
    prior: prior.source,
    identity,
    strategy: req.via ? "path" : analyzer.strategy,
  });
  let lastSent = 0,
    lastFraction = -1;
  for (const [i, h] of heads.entries()) {
    // Another request may have computed it while this one waited its turn.
    const hit = deps.cache?.get(key, h);
    if (hit) {
      ctx.emit({ type: "head", ...hit, cached: true });
      continue;
    }
    const th = performance.now();
    const ctl = analyzer.control(ctx.signal, (f) => {
      const fraction = (i + f) / heads.length,
        now = performance.now();
      if (fraction - lastFraction < PROGRESS_STEP && now - lastSent < PROGRESS_MS) return;
      lastSent = now;
      lastFraction = fraction;
      ctx.emit({ type: "progress", fraction, layer: h.layer, head: h.head });
    });
    const { report, details } = req.via ? await analyzer.path(h, req.via, req.sizes, ctl) : await analyzer.direct(h, req.sizes, ctl);
    const result: HeadResult = { report, details, elapsedMs: performance.now() - th, cached: false, computedWith: settings, identity };
    deps.cache?.put(key, result);
    ctx.emit({ type: "head", ...result });
  }
  return identity;
}
