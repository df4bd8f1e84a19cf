/**
 * One head analyzer for every request that selects a head's keys (analyze, token): the model, the
 * prior and the strategy are resolved once per request. A head's direct path runs the chosen
 * strategy and is remembered in the store (every key's importance and the circuits: the hover and
 * the token table rank keys against them); a composition path runs the path strategy.
 */
import { HeadCircuits } from "../core/circuits";
import { HeadLensError } from "../core/errors";
import { allHeads, headName, HeadRef } from "../core/heads";
import { ImportanceIntervals } from "../core/keyRank";
import { PathRef, ReportSizes } from "../core/report";
import { Identity, ModelRequest, Strategy } from "../protocol/engine";
import { analyzeHeadDense, circuitsFor } from "./denseStrategy";
import { HeadAnalysis, HeadJob, RunControl } from "./headJob";
import { ModelStore, PriorEntry, StoredModel } from "./modelStore";
import { CancelledError, OrtBackend } from "./ortBackend";
import { analyzePath } from "./pathStrategy";
import { analyzeHeadPruned, resolveStrategy } from "./prunedStrategy";

export interface AnalysisDeps {
  store: ModelStore;
  backend: () => Promise<OrtBackend>;
  blockBytes: number;
}

/** Sizes of an analysis run only for every key's importance (the token table's ranks). */
const RANKING_SIZES: ReportSizes = { nKeys: 1, nQueries: 0, nOutputs: 0 };

export class HeadAnalyzer {
  private constructor(
    readonly backend: OrtBackend,
    private readonly store: ModelStore,
    readonly stored: StoredModel,
    readonly prior: PriorEntry,
    readonly strategy: "dense" | "pruned",
    private readonly blockBytes: number,
  ) {}

  static async open(deps: AnalysisDeps, req: ModelRequest & { strategy?: Strategy }): Promise<HeadAnalyzer> {
    const backend = await deps.backend();
    const stored = deps.store.load(req.modelDir);
    const prior = deps.store.prior(stored, req.priors);
    const strategy = resolveStrategy(req.strategy ?? "auto", backend.ep, stored.model.config.d_vocab);
    return new HeadAnalyzer(backend, deps.store, stored, prior, strategy, deps.blockBytes);
  }

  get identity(): Identity {
    return { model: this.stored.identity, prior: this.prior.identity };
  }

  /** A run's control: cancellation (`signal`) checked between streamed blocks, progress in [0, 1]. */
  control(signal: AbortSignal, progress?: (fraction: number) => void): RunControl {
    const check = () => {
      if (signal.aborted) throw new CancelledError();
    };
    return { check, blockBytes: this.blockBytes, progress };
  }

  /** A head's direct path under the chosen strategy; its keys' importance and circuits are kept. */
  async direct(h: HeadRef, sizes: ReportSizes, ctl: RunControl): Promise<HeadAnalysis> {
    const run = this.strategy === "dense" ? analyzeHeadDense : analyzeHeadPruned;
    const result = await run(this.backend, this.job(h, sizes), ctl);
    this.store.rememberHead(this.stored, this.prior, h, result);
    return result;
  }

  /** A head's path through an earlier head. */
  path(h: HeadRef, via: PathRef, sizes: ReportSizes, ctl: RunControl): ReturnType<typeof analyzePath> {
    return analyzePath(this.backend, this.job(h, sizes), via, ctl, this.strategy);
  }

  /** Every key's importance of a head and its circuits: kept from an earlier analysis, or computed once. */
  async ranking(h: HeadRef, ctl: RunControl): Promise<{ importance: ImportanceIntervals; circuits: HeadCircuits }> {
    const importance = this.store.importance(this.stored, this.prior, h);
    if (!importance) return this.direct(h, RANKING_SIZES, ctl);
    const circuits = await this.store.circuits(this.stored, h.layer, h.head, () =>
      circuitsFor(this.backend, { weights: this.stored.model.weights, layer: h.layer, head: h.head, bos: this.stored.model.vocab.bos }),
    );
    return { importance, circuits };
  }

  private job(h: HeadRef, sizes: ReportSizes): HeadJob {
    const { config, vocab, weights } = this.stored.model;
    return {
      modelName: config.model_name,
      weights,
      bos: vocab.bos,
      layer: h.layer,
      head: h.head,
      prior: this.prior.p,
      priorW: this.prior.w,
      priorSource: this.prior.source,
      sizes,
      label: (id) => vocab.display(id),
      byteLength: (id) => vocab.bytes(id)?.length,
    };
  }
}

/** The heads a request names, checked against the model's shape ("all": every head). */
export function resolveHeads(heads: HeadRef[] | "all", nLayers: number, nHeads: number): HeadRef[] {
  if (heads === "all") return allHeads(nLayers, nHeads);
  for (const h of heads) {
    if (!Number.isInteger(h.layer) || h.layer < 0 || h.layer >= nLayers)
      throw new HeadLensError(`layer ${h.layer} does not exist: the model has layers 0–${nLayers - 1}`, "request.layer");
    if (!Number.isInteger(h.head) || h.head < 0 || h.head >= nHeads)
      throw new HeadLensError(`head ${h.head} does not exist: the model has heads 0–${nHeads - 1}`, "request.head");
  }
  return heads;
}

/** The heads of a path request: those named (or every head that can compose), each in a later layer than `via`. */
export function resolvePathHeads(heads: HeadRef[] | "all", via: PathRef, nLayers: number, nHeads: number): HeadRef[] {
  let resolved = resolveHeads(heads, nLayers, nHeads);
  if (heads === "all") resolved = resolved.filter((h) => h.layer > via.layer); // only heads that can compose
  if (!["k", "q", "v"].includes(via.type)) throw new HeadLensError(`path type "${via.type}" is not one of k, q, v`, "request.via");
  resolveHeads([via], nLayers, nHeads);
  const bad = resolved.find((h) => h.layer <= via.layer);
  if (bad)
    throw new HeadLensError(
      `${headName(bad.layer, bad.head)} cannot compose with ${headName(via.layer, via.head)}: a path runs through a head of an earlier layer`,
      "request.via",
    );
  return resolved;
}
