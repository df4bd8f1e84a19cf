/**
 * Runs analyses for the UI: serves cached heads at once, sends the rest to the engine as one
 * streamed request with a cancellable progress notification, joins a request for a head that is
 * already in flight, and tells listeners (panel, tree, status bar) about every head as it lands.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { headList, headName } from "../../core/headName";
import { parsePriorSpec } from "../../core/priorSpec";
import { PathRef } from "../../core/report";
import { Identity, ModelMetrics } from "../../protocol/engine";
import { describeSettings, HeadRef, PanelSettings, ShownHead } from "../../protocol/webview";
import { EngineClient } from "../engineClient";
import { ModelEntry, modelName } from "./modelRegistry";
import { ResultCache } from "./resultCache";
import { engineSettings, strategySetting } from "./settings";

export type { HeadRef } from "../../protocol/webview";

/** Analysis events; `via` names the composition path analyzed (absent: the direct path). */
export interface AnalysisListener {
  pending?(model: ModelEntry, heads: HeadRef[], via?: PathRef): void;
  progress?(model: ModelEntry, fraction: number, at: HeadRef, via?: PathRef): void;
  head?(model: ModelEntry, head: ShownHead): void;
  finished?(model: ModelEntry, outcome: { cancelled: boolean; error?: string }, heads: HeadRef[], via?: PathRef): void;
  /** A model's head metrics were computed or read from the cache. */
  metrics?(model: ModelEntry, metrics: ModelMetrics): void;
}

export class AnalysisService {
  private listeners: AnalysisListener[] = [];
  private inFlight = new Map<string, Promise<ShownHead>>();
  private controllers = new Set<AbortController>();
  private metricsInFlight = new Map<string, Promise<ModelMetrics>>();
  lastEp = "";
  lastElapsedMs = 0;

  constructor(
    /** A getter: the client is replaced when engine settings change. */
    private readonly engine: () => EngineClient,
    private readonly cache: ResultCache,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  listen(l: AnalysisListener): vscode.Disposable {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  }

  get busy(): boolean {
    return this.controllers.size > 0;
  }

  cancelAll(): void {
    this.log.info(`cancel requested: ${this.controllers.size} analysis request(s) running`);
    for (const c of this.controllers) c.abort();
  }

  /** The identity results for this model and settings would have now (the worker hashes the files). */
  private identity(model: ModelEntry, settings: PanelSettings): Promise<Identity> {
    return this.engine().identify({ modelDir: model.dir, priors: parsePriorSpec(settings.priors) });
  }

  /** Every head's metrics and the composition scores (cached by the model's content identity);
   * concurrent callers (tree, overview, panel) share one request. */
  metrics(model: ModelEntry): Promise<ModelMetrics> {
    const flying = this.metricsInFlight.get(model.id);
    if (flying) return flying;
    const p = this.computeMetrics(model).then((m) => {
      this.emit((l) => l.metrics?.(model, m));
      return m;
    }).finally(() => this.metricsInFlight.delete(model.id));
    this.metricsInFlight.set(model.id, p);
    return p;
  }

  private async computeMetrics(model: ModelEntry): Promise<ModelMetrics> {
    if (!model.config) throw new Error(`${modelName(model)} cannot be analyzed: ${model.error}`);
    const { model: identity } = await this.identity(model, { nKeys: 1, nQueries: 0, nOutputs: 0, priors: "uniform" });
    const hit = this.cache.getMetrics(identity);
    if (hit) return hit;
    const t0 = Date.now();
    const { identity: computedFrom, ...metrics } = await this.engine().metrics(model.dir);
    this.log.info(`metrics of ${modelName(model)}: ${seconds(t0)}`);
    this.cache.putMetrics(computedFrom, metrics);
    return metrics;
  }

  /** A cached result, if any (for tree descriptions and instant reopening). */
  async cached(model: ModelEntry, settings: PanelSettings, ref: HeadRef, via?: PathRef): Promise<ShownHead | undefined> {
    if (!model.config) return undefined;
    return this.cache.get(ResultCache.key(await this.identity(model, settings), settings, via), ref.layer, ref.head);
  }

  /** Analyzes heads of a model; resolves with every head's result (cached ones included). */
  async analyze(model: ModelEntry, heads: HeadRef[], settings: PanelSettings, via?: PathRef): Promise<ShownHead[]> {
    if (!model.config) throw new Error(`${modelName(model)} cannot be analyzed: ${model.error}`);
    const key = ResultCache.key(await this.identity(model, settings), settings, via);
    const results = new Map<string, Promise<ShownHead>>();
    const todo: HeadRef[] = [];
    const hits: HeadRef[] = [];
    const id = (h: HeadRef) => `${model.id}|${key}|${h.layer}:${h.head}`;
    for (const h of heads) {
      const hit = this.cache.get(key, h.layer, h.head);
      const flying = this.inFlight.get(id(h));
      if (hit) {
        const value = { ...hit, cached: true };
        results.set(id(h), Promise.resolve(value));
        hits.push(h);
        this.emit((l) => l.head?.(model, value));
      } else if (flying) results.set(id(h), flying);
      else todo.push(h);
    }
    if (hits.length) this.log.info(`${modelName(model)} ${headList(hits)}: from the cache (${describeSettings(settings)})`);
    if (todo.length) {
      const run = this.run(model, todo, settings, via);
      todo.forEach((h, i) => {
        const p = run.then((all) => all[i]);
        p.catch(() => undefined);
        this.inFlight.set(id(h), p);
        results.set(id(h), p);
        p.finally(() => this.inFlight.delete(id(h))).catch(() => undefined);
      });
    }
    return Promise.all(heads.map((h) => results.get(id(h))!));
  }

  private run(model: ModelEntry, heads: HeadRef[], settings: PanelSettings, via?: PathRef): Promise<ShownHead[]> {
    const ac = new AbortController();
    this.controllers.add(ac);
    this.emit((l) => l.pending?.(model, heads, via));
    const what = heads.length === 1 ? headName(heads[0].layer, heads[0].head) : `${heads.length} heads`;
    const strategy = strategySetting();
    const request = `${modelName(model)} ${headList(heads)}${via ? ` via ${headName(via.layer, via.head)} (${via.type})` : ""} · providers ${engineSettings().epPreference.join(",")} · strategy ${strategy} · ${describeSettings(settings)}`;
    this.log.info(`analyze ${request}`);
    const started = Date.now();
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Head Lens: analyzing ${what} of ${modelName(model)}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let reported = 0;
        const shown: ShownHead[] = [];
        // Stored under the identity the worker reports it actually used (a file may change meanwhile).
        let identity: Identity | undefined;
        let ep = "", ran = "";
        try {
          await this.engine().analyze(
            { modelDir: model.dir, heads, strategy, priors: parsePriorSpec(settings.priors), sizes: { nKeys: settings.nKeys, nQueries: settings.nQueries, nOutputs: settings.nOutputs }, ...(via ? { via } : {}) },
            {
              signal: ac.signal,
              onEvent: (ev) => {
                if (ev.type === "started") ({ identity, ep, strategy: ran } = ev);
                else if (ev.type === "progress") {
                  const pct = Math.floor(100 * ev.fraction);
                  if (pct > reported) {
                    // The title names a single head already; for several, say which one is running.
                    progress.report({ increment: pct - reported, message: heads.length === 1 ? `${pct} %` : `${headName(ev.layer, ev.head)} (${pct} %)` });
                    reported = pct;
                  }
                  this.emit((l) => l.progress?.(model, ev.fraction, ev, via));
                } else if (ev.type === "head") {
                  const value: ShownHead = { report: ev.report, details: ev.details, elapsedMs: ev.elapsedMs, cached: false, computedWith: { ...settings }, identity: identity! };
                  this.cache.put(ResultCache.key(identity!, settings, via), value);
                  shown.push(value);
                  this.lastEp = ev.report.ep;
                  this.lastElapsedMs = ev.elapsedMs;
                  this.log.info(`${modelName(model)} ${headName(ev.report.layer, ev.report.head)}: provider ${ev.report.ep} · ${(ev.elapsedMs / 1000).toFixed(2)} s`);
                  this.emit((l) => l.head?.(model, value));
                }
              },
            },
          );
          this.log.info(`analyzed ${modelName(model)} ${headList(heads)} · provider ${ep} · strategy ${ran} (asked: ${strategy}) · ${seconds(started)}`);
          this.emit((l) => l.finished?.(model, { cancelled: false }, heads, via));
          return shown;
        } catch (e) {
          const cancelled = isCancelled(e);
          if (cancelled) this.log.info(`cancelled ${request} after ${seconds(started)} (${shown.length} of ${heads.length} heads done)`);
          else this.log.error(`failed ${request} after ${seconds(started)}: ${errorMessage(e)}`);
          this.emit((l) => l.finished?.(model, { cancelled, error: cancelled ? undefined : errorMessage(e) }, heads, via));
          throw e;
        } finally {
          this.controllers.delete(ac);
        }
      },
    ));
  }

  private emit(f: (l: AnalysisListener) => void): void {
    for (const l of this.listeners) {
      try {
        f(l);
      } catch (e) {
        this.log.error(`listener failed: ${errorMessage(e)}`);
      }
    }
  }
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(2)} s`;
