/**
 * Runs analyses for the UI. Each analysis is one engine request: the worker answers cached heads
 * at once and computes the rest (with a cancellable progress notification, opened only when
 * something is computed); a head already in flight is joined; listeners (panels, tree, status bar)
 * hear about every head as it lands. Head metrics come from here too, one request per model
 * shared by every caller, and a failure is remembered until the model is listed again. No `vscode`
 * import: the progress notification and the log are handed in (test/analysisService.test.ts).
 */
import { errorCode, errorMessage, HeadLensError, isCancelled } from "../../core/errors";
import { ModelMetrics } from "../../core/headMetrics";
import { headKey, headList, headName, HeadRef, pathKey, pathName } from "../../core/heads";
import { PathRef } from "../../core/report";
import { describeSettings, ReportSettings, sizesOf } from "../../core/reportSettings";
import { HeadResult, Strategy } from "../../protocol/engine";
import { EngineClient } from "../engineClient";
import { ModelEntry, modelName } from "./modelEntry";

/** Analysis events; `via` names the composition path analyzed (absent: the direct path). */
export interface AnalysisListener {
  pending?(model: ModelEntry, heads: HeadRef[], via?: PathRef): void;
  progress?(model: ModelEntry, fraction: number, at: HeadRef, via?: PathRef): void;
  head?(model: ModelEntry, head: HeadResult): void;
  finished?(model: ModelEntry, outcome: { cancelled: boolean; error?: string }, heads: HeadRef[], via?: PathRef): void;
  /** A model's head metrics arrived (computed, or from the cache). */
  metrics?(model: ModelEntry, metrics: ModelMetrics): void;
  /** An engine request of this service ended, however it ended (whether the service is busy changed). */
  settled?(): void;
}

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A progress notification with a Cancel button, opened when work starts and closed by `done`. */
export type ProgressUi = (title: string, cancel: () => void) => { report(increment: number, message: string): void; done(): void };

export interface AnalysisOptions {
  engine: () => EngineClient;
  log: Log;
  progress: ProgressUi;
  /** The strategy and providers the engine runs with (logged with each request). */
  engineSettings: () => { strategy: Strategy; epPreference: readonly string[] };
}

type Metrics = ModelMetrics & { identity: string };

export class AnalysisService {
  private listeners: AnalysisListener[] = [];
  /** Each head being analyzed, until its own result lands (not until its whole request ends). */
  private inFlight = new Map<string, Promise<HeadResult>>();
  private controllers = new Set<AbortController>();
  private metricsInFlight = new Map<string, Promise<Metrics>>();
  /** The last metrics received for each model id (each carries the identity it was computed from). */
  private lastMetrics = new Map<string, Metrics>();
  /** Failures are the listed entry's: a model listed again (a new entry) is asked again. */
  private failedMetrics = new WeakMap<ModelEntry, Error>();
  /** Entries whose metrics request failed once because the engine crashed (asked again once). */
  private crashedOnce = new WeakSet<ModelEntry>();

  constructor(private readonly o: AnalysisOptions) {}

  listen(l: AnalysisListener): { dispose(): void } {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  }

  get busy(): boolean {
    return this.controllers.size > 0;
  }

  cancelAll(): void {
    this.o.log.info(`cancel requested: ${this.controllers.size} analysis request(s) running`);
    for (const c of this.controllers) c.abort();
  }

  /**
   * Every head's metrics and the composition scores (cached by the model's content identity in the
   * worker); concurrent callers share one request. A failure is not asked again until the model is
   * listed again (a refresh of the models), so a tree refresh or an edit does not repeat it.
   */
  metrics(model: ModelEntry): Promise<Metrics> {
    const failed = this.failedMetrics.get(model);
    if (failed) return Promise.reject(failed);
    const flying = this.metricsInFlight.get(model.id);
    if (flying) return flying;
    const p = this.requestMetrics(model).finally(() => this.metricsInFlight.delete(model.id));
    this.metricsInFlight.set(model.id, p);
    return p;
  }

  /** The metrics last received for a model, if any (tree badges read them synchronously). */
  knownMetrics(model: ModelEntry): Metrics | undefined {
    return this.lastMetrics.get(model.id);
  }

  /** Why a model's metrics could not be computed, if they could not. */
  metricsFailure(model: ModelEntry): string | undefined {
    const e = this.failedMetrics.get(model);
    return e && errorMessage(e);
  }

  private async requestMetrics(model: ModelEntry): Promise<Metrics> {
    try {
      if (!model.config) throw new Error(`${modelName(model)} cannot be analyzed: ${model.error}`);
      const t0 = Date.now();
      const m = await this.o.engine().metrics(model.dir);
      this.o.log.info(`metrics of ${modelName(model)}: ${seconds(t0)}`);
      this.crashedOnce.delete(model); // a later crash is again first forgiven, as another request's fault
      const before = this.lastMetrics.get(model.id);
      this.lastMetrics.set(model.id, m);
      if (before?.identity !== m.identity) this.emit((l) => l.metrics?.(model, m));
      return m;
    } catch (e) {
      this.o.log.warn(`metrics of ${modelName(model)}: ${errorMessage(e)}`);
      // Remembered, except a cancel or an engine shut down for new settings, which say nothing about
      // the model, and a first crash: the engine may have crashed under another request (it did, when
      // a run of another model released sessions in use) and remembering it hid this model's metrics
      // for the window's life. A second crash is the model's.
      if (isCancelled(e) || errorCode(e) === "engine.disposed") throw e;
      if (errorCode(e) === "engine.crashed" && !this.crashedOnce.has(model)) {
        this.crashedOnce.add(model);
        throw e;
      }
      const error = new HeadLensError(`${errorMessage(e)}; run Head Lens: Refresh Models to try again`, errorCode(e));
      this.failedMetrics.set(model, error);
      throw error;
    }
  }

  /** A cached result, if the worker's cache holds one (tree descriptions, Copy Report); nothing is computed. */
  async cached(model: ModelEntry, settings: ReportSettings, ref: HeadRef, via?: PathRef): Promise<HeadResult | undefined> {
    if (!model.config) return undefined;
    let hit: HeadResult | undefined;
    await this.o
      .engine()
      .analyze({ ...this.params(model, [ref], settings, via), cachedOnly: true }, { onEvent: (e) => e.type === "head" && (hit = e) });
    return hit && resultOf(hit);
  }

  /** Analyzes heads of a model; resolves with every head's result (cached ones included). A head
   * another request is analyzing is joined until its result lands, then asked for again. */
  async analyze(model: ModelEntry, heads: HeadRef[], settings: ReportSettings, via?: PathRef): Promise<HeadResult[]> {
    if (!model.config) throw new Error(`${modelName(model)} cannot be analyzed: ${model.error}`);
    const id = (h: HeadRef) => `${model.id}|${describeSettings(settings)}|${pathKey(via)}|${headKey(h)}`;
    const todo = heads.filter((h) => !this.inFlight.has(id(h)));
    const joined = new Map(heads.map((h) => [id(h), this.inFlight.get(id(h))]));
    if (todo.length) {
      const settle = (h: HeadRef, p: Promise<HeadResult>) => this.inFlight.get(id(h)) === p && this.inFlight.delete(id(h));
      const results = this.run(model, todo, settings, via, (h) => settle(h, results.get(headKey(h))!));
      for (const h of todo) {
        const p = results.get(headKey(h))!;
        this.inFlight.set(id(h), p);
        joined.set(id(h), p);
        p.catch(() => undefined).finally(() => settle(h, p)); // a failed or cancelled head
      }
    }
    return Promise.all(heads.map((h) => joined.get(id(h))!));
  }

  private params(model: ModelEntry, heads: HeadRef[], settings: ReportSettings, via?: PathRef) {
    return {
      modelDir: model.dir,
      heads,
      priors: settings.prior,
      sizes: sizesOf(settings),
      strategy: this.o.engineSettings().strategy,
      ...(via ? { via } : {}),
    };
  }

  /** One engine request: cached heads arrive at once, the others are computed with a progress
   * notification; each head's promise settles when its own result lands (by headKey). */
  private run(
    model: ModelEntry,
    heads: HeadRef[],
    settings: ReportSettings,
    via: PathRef | undefined,
    landed: (h: HeadRef) => void,
  ): Map<string, Promise<HeadResult>> {
    const pending = new Map(heads.map((h) => [headKey(h), deferred<HeadResult>()]));
    const fail = (e: unknown) => pending.forEach((d) => d.reject(e));
    const land = (r: HeadResult) => {
      pending.get(headKey(r.report))?.resolve(r);
      landed(r.report); // before its listeners hear of it: who asks for it from then on gets a new request
    };
    this.stream(model, heads, settings, via, land).then(
      () => fail(new Error(`the engine sent no result for ${headList(heads)}; run the analysis again`)),
      fail,
    );
    return new Map([...pending].map(([k, d]) => [k, d.promise]));
  }

  /** The request itself: its events reach the listeners, each head result `landed`. */
  private async stream(
    model: ModelEntry,
    heads: HeadRef[],
    settings: ReportSettings,
    via: PathRef | undefined,
    landed: (r: HeadResult) => void,
  ): Promise<void> {
    const ac = new AbortController();
    this.controllers.add(ac);
    const { strategy, epPreference } = this.o.engineSettings();
    const name = modelName(model);
    const request = (hs: HeadRef[]) =>
      `${name} ${headList(hs)}${via ? ` ${pathName(via)}` : ""} · ` +
      `providers ${epPreference.join(",")} · strategy ${strategy} · ${describeSettings(settings)}`;
    const started = Date.now();
    const out = new Map<string, HeadResult>();
    let computing: HeadRef[] = [];
    let ui: ReturnType<ProgressUi> | undefined;
    let reported = 0,
      ep = "",
      ran = "";
    try {
      await this.o.engine().analyze(this.params(model, heads, settings, via), {
        signal: ac.signal,
        onEvent: (ev) => {
          if (ev.type === "identified") {
            computing = ev.computing;
            const cached = ev.cached;
            if (cached.length)
              this.o.log.info(
                `${name} ${headList(cached)}${via ? ` ${pathName(via)}` : ""}: from the cache (${describeSettings(settings)})`,
              );
            if (!computing.length) return;
            this.o.log.info(`analyze ${request(computing)}`);
            this.emit((l) => l.pending?.(model, computing, via));
            const what = computing.length === 1 ? headName(computing[0].layer, computing[0].head) : `${computing.length} heads`;
            ui = this.o.progress(`Head Lens: analyzing ${what} of ${name}`, () => ac.abort());
          } else if (ev.type === "started") ({ ep, strategy: ran } = ev);
          else if (ev.type === "progress") {
            const pct = Math.floor(100 * ev.fraction);
            if (pct > reported) {
              // The title names a single head already; for several, say which one is running.
              ui?.report(pct - reported, computing.length === 1 ? `${pct} %` : `${headName(ev.layer, ev.head)} (${pct} %)`);
              reported = pct;
            }
            this.emit((l) => l.progress?.(model, ev.fraction, ev, via));
          } else if (ev.type === "head") {
            const value = resultOf(ev);
            out.set(headKey(value.report), value);
            landed(value);
            if (!value.cached) {
              this.o.log.info(
                `${name} ${headName(value.report.layer, value.report.head)}: provider ${value.report.ep} · ${(value.elapsedMs / 1000).toFixed(2)} s`,
              );
            }
            this.emit((l) => l.head?.(model, value));
          }
        },
      });
      if (computing.length) {
        this.o.log.info(
          `analyzed ${name} ${headList(computing)} · provider ${ep} · strategy ${ran} (asked: ${strategy}) · ${seconds(started)}`,
        );
        this.emit((l) => l.finished?.(model, { cancelled: false }, computing, via));
      }
    } catch (e) {
      const cancelled = isCancelled(e);
      if (cancelled)
        this.o.log.info(`cancelled ${request(computing)} after ${seconds(started)} (${out.size} of ${heads.length} heads done)`);
      else this.o.log.error(`failed ${request(heads)} after ${seconds(started)}: ${errorMessage(e)}`);
      this.emit((l) =>
        l.finished?.(model, { cancelled, error: cancelled ? undefined : errorMessage(e) }, computing.length ? computing : heads, via),
      );
      throw e;
    } finally {
      ui?.done();
      this.controllers.delete(ac);
      this.emit((l) => l.settled?.());
    }
  }

  private emit(f: (l: AnalysisListener) => void): void {
    for (const l of this.listeners) {
      try {
        f(l);
      } catch (e) {
        this.o.log.error(`listener failed: ${errorMessage(e)}`);
      }
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void, reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined); // a head nobody awaits any more must not be an unhandled rejection
  return { promise, resolve, reject };
}

/** A head event without its event tag. */
function resultOf(e: HeadResult & { type?: string }): HeadResult {
  const { report, details, elapsedMs, cached, computedWith, identity } = e;
  return { report, details, elapsedMs, cached, computedWith, identity };
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(2)} s`;
