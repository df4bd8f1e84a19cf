/**
 * Runs analyses for the UI: serves cached heads at once, sends the rest to the engine as one
 * streamed request with a cancellable progress notification, joins a request for a head that is
 * already in flight, and tells listeners (panel, tree, status bar) about every head as it lands.
 */
import * as vscode from "vscode";
import { errorMessage, isHeadLensError } from "../../core/errors";
import { EngineClient } from "../engineClient";
import { parsePriorSpec } from "../../worker/loaders/priors";
import { PanelSettings, ShownHead } from "../../protocol/webview";
import { ModelEntry, ModelRegistry, modelName } from "./modelRegistry";
import { ResultCache } from "./resultCache";
import { strategySetting } from "./settings";

export interface HeadRef {
  layer: number;
  head: number;
}

export interface AnalysisListener {
  pending?(model: ModelEntry, heads: HeadRef[]): void;
  progress?(model: ModelEntry, fraction: number, at: HeadRef): void;
  head(model: ModelEntry, head: ShownHead): void;
  finished?(model: ModelEntry, outcome: { cancelled: boolean; error?: string }): void;
}

export class AnalysisService {
  private listeners: AnalysisListener[] = [];
  private inFlight = new Map<string, Promise<ShownHead>>();
  private controllers = new Set<AbortController>();
  lastEp = "";
  lastElapsedMs = 0;

  constructor(
    /** A getter: the client is replaced when engine settings change. */
    private readonly engine: () => EngineClient,
    private readonly registry: ModelRegistry,
    private readonly cache: ResultCache,
    private readonly log: vscode.OutputChannel,
  ) {}

  listen(l: AnalysisListener): vscode.Disposable {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  }

  get busy(): boolean {
    return this.controllers.size > 0;
  }

  cancelAll(): void {
    this.log.appendLine(`cancel requested: ${this.controllers.size} analysis request(s) running`);
    for (const c of this.controllers) c.abort();
  }

  /** A cached result, if any (for tree descriptions and instant reopening). */
  async cached(model: ModelEntry, settings: PanelSettings, ref: HeadRef): Promise<ShownHead | undefined> {
    const key = ResultCache.settingsKey(await this.registry.contentHash(model), settings);
    return this.cache.get(key, ref.layer, ref.head);
  }

  /** Analyzes heads of a model; resolves with every head's result (cached ones included). */
  async analyze(model: ModelEntry, heads: HeadRef[], settings: PanelSettings): Promise<ShownHead[]> {
    if (!model.config) throw new Error(`${modelName(model)} cannot be analyzed: ${model.error}`);
    const key = ResultCache.settingsKey(await this.registry.contentHash(model), settings);
    const results = new Map<string, Promise<ShownHead>>();
    const todo: HeadRef[] = [];
    const id = (h: HeadRef) => `${model.id}|${key}|${h.layer}:${h.head}`;
    for (const h of heads) {
      const hit = this.cache.get(key, h.layer, h.head);
      const flying = this.inFlight.get(id(h));
      if (hit) {
        const value = { ...hit, cached: true };
        results.set(id(h), Promise.resolve(value));
        this.emit((l) => l.head(model, value));
      } else if (flying) results.set(id(h), flying);
      else todo.push(h);
    }
    if (todo.length) {
      const run = this.run(model, todo, settings, key);
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

  private run(model: ModelEntry, heads: HeadRef[], settings: PanelSettings, key: string): Promise<ShownHead[]> {
    const ac = new AbortController();
    this.controllers.add(ac);
    this.emit((l) => l.pending?.(model, heads));
    const what = heads.length === 1 ? `head ${heads[0].layer}:${heads[0].head}` : `${heads.length} heads`;
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Head Lens: analyzing ${what} of ${modelName(model)}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        let reported = 0;
        const shown: ShownHead[] = [];
        try {
          await this.engine().analyze(
            { modelDir: model.dir, heads, strategy: strategySetting(), priors: parsePriorSpec(settings.priors), sizes: { nKeys: settings.nKeys, nQueries: settings.nQueries, nOutputs: settings.nOutputs } },
            {
              signal: ac.signal,
              onEvent: (ev) => {
                if (ev.type === "progress") {
                  const pct = Math.floor(100 * ev.fraction);
                  if (pct > reported) {
                    progress.report({ increment: pct - reported, message: `head ${ev.layer}:${ev.head} (${pct} %)` });
                    reported = pct;
                  }
                  this.emit((l) => l.progress?.(model, ev.fraction, ev));
                } else if (ev.type === "head") {
                  const value: ShownHead = { report: ev.report, details: ev.details, elapsedMs: ev.elapsedMs, cached: false };
                  this.cache.put(key, value);
                  shown.push(value);
                  this.lastEp = ev.report.ep;
                  this.lastElapsedMs = ev.elapsedMs;
                  this.emit((l) => l.head(model, value));
                }
              },
            },
          );
          this.emit((l) => l.finished?.(model, { cancelled: false }));
          return shown;
        } catch (e) {
          const cancelled = isHeadLensError(e) && (e as { code?: string }).code === "cancelled";
          this.emit((l) => l.finished?.(model, { cancelled, error: cancelled ? undefined : errorMessage(e) }));
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
        this.log.appendLine(`listener failed: ${errorMessage(e)}`);
      }
    }
  }
}
