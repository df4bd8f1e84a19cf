/**
 * Host side of the engine: owns the worker thread (the only owner of model state), speaks the
 * EngineApi over the typed channel, and replaces a crashed worker — the requests it held fail
 * with one clear error and the next request starts a fresh one. Never loads onnxruntime itself.
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { HeadLensError } from "../core/errors";
import { HeadReport } from "../core/report";
import { CallOptions, Channel, nodePort } from "../protocol/channel";
import { ExplainParams, ExplainResult } from "../protocol/explain";
import { PatchParams, PatchResult } from "../protocol/whatIf";
import { LightMetrics } from "../protocol/timeline";
import { AttentionEvent, AttentionParams, AttentionResult, PatternParams, PatternResult } from "../protocol/attention";
import {
  AnalyzeEvent,
  AnalyzeParams,
  EngineApi,
  EngineHostApi,
  HoverParams,
  HoverResult,
  Identity,
  ModelDescription,
  ModelRequest,
  TokenParams,
  TokenResult,
  WorkerConfig,
} from "../protocol/engine";

export interface EngineClientOptions extends WorkerConfig {
  /** Path of the bundled worker script (dist/worker.js). */
  workerPath?: string;
  /** `warning`: the user should see it (a provider they asked for is not used, and why). */
  log?: (message: string, warning?: boolean) => void;
  /** Starts the worker thread (tests pass one that lets them end it as a crash would). */
  createWorker?: (path: string, config: WorkerConfig) => Worker;
}

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onEvent?: (event: AnalyzeEvent) => void;
}

const SHUTDOWN_GRACE_MS = 5000;
const makeError = (message: string, code: string) => new HeadLensError(message, code as HeadLensError["code"]);

export class EngineClient {
  private worker?: Worker;
  private channel?: Channel<EngineHostApi, EngineApi>;
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  /** Analyzes heads; resolves with their reports in order (each also streamed as an event). */
  async analyze(request: AnalyzeParams, opts: AnalyzeOptions = {}): Promise<HeadReport[]> {
    const reports: HeadReport[] = [];
    await this.call("analyze", request, {
      signal: opts.signal,
      onEvent: (e) => {
        if (e.type === "head") reports.push(e.report);
        opts.onEvent?.(e);
      },
    });
    return reports;
  }

  /** A model folder checked cheaply: its config, or why it cannot be used. */
  describe(modelDir: string): Promise<ModelDescription> {
    return this.call("describe", { modelDir });
  }

  /** The identity results for this model and prior would have now (content hashes). */
  identify(request: ModelRequest): Promise<Identity> {
    return this.call("identify", request);
  }

  /** A word's tokens and priors, and what its first token does in a head (editor hover). */
  hover(request: HoverParams, signal?: AbortSignal): Promise<HoverResult> {
    return this.call("hover", request, { signal });
  }

  /** The model run on a text or ids; its patterns stream (onEvent) before the predictions arrive. */
  attention(
    request: AttentionParams,
    opts: { signal?: AbortSignal; onEvent?: (e: AttentionEvent) => void } = {},
  ): Promise<AttentionResult> {
    return this.call("attention", request, opts);
  }

  /** One head's exact pattern from a recent attention run. */
  attentionPattern(request: PatternParams, signal?: AbortSignal): Promise<PatternResult> {
    return this.call("attentionPattern", request, { signal });
  }

  /** Activation patching of every head from a clean text into a corrupted one. */
  patch(request: PatchParams, signal?: AbortSignal): Promise<PatchResult> {
    return this.call("patch", request, { signal });
  }

  /** Why a head attends from a query to its keys, on a recent attention run. */
  explain(request: ExplainParams, signal?: AbortSignal): Promise<ExplainResult> {
    return this.call("explain", request, { signal });
  }

  /** One token in every head: its exact key rank and figures (streamed per head). */
  token(request: TokenParams, opts: CallOptions<EngineApi["token"]["event"]> = {}): Promise<TokenResult> {
    return this.call("token", request, opts);
  }

  /** Every head's metrics and the Q/K/V composition scores of a model. */
  metrics(modelDir: string): Promise<EngineApi["metrics"]["result"]> {
    return this.call("metrics", { modelDir });
  }

  /** Every metric but copying, of a checkpoint the timeline read in part (a light folder). */
  lightMetrics(dir: string, signal?: AbortSignal): Promise<LightMetrics> {
    return this.call("lightMetrics", { dir }, { signal });
  }

  /**
   * Shuts the worker down: it cancels its work and exits between two onnxruntime runs. Only if it
   * has not exited after SHUTDOWN_GRACE_MS is it terminated (terminating it inside a native
   * session.run would abort the whole process, extension host included).
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker,
      channel = this.channel;
    this.worker = undefined;
    this.channel = undefined;
    if (!w || !channel) return;
    const exited = new Promise<void>((r) => w.once("exit", () => r()));
    channel.notify("shutdown", {});
    channel.close(new HeadLensError("the engine was shut down", "engine.disposed"));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), SHUTDOWN_GRACE_MS)));
    if ((await Promise.race([exited, late])) === "late") await w.terminate();
    clearTimeout(timer);
  }

  private async call<M extends keyof EngineApi & string>(
    method: M,
    params: EngineApi[M]["params"],
    opts: CallOptions<EngineApi[M] extends { event: infer E } ? E : never> = {},
  ): Promise<EngineApi[M]["result"]> {
    if (this.disposed) throw new HeadLensError("the engine has been shut down", "engine.disposed");
    if (opts.signal?.aborted) throw new HeadLensError("analysis cancelled", "cancelled");
    const channel = this.ensureWorker();
    this.worker!.ref(); // keep the process alive while work is pending
    try {
      return await channel.call(method, params, opts);
    } finally {
      if (channel === this.channel && channel.inFlight === 0) this.worker?.unref();
    }
  }

  private ensureWorker(): Channel<EngineHostApi, EngineApi> {
    if (this.worker && this.channel) return this.channel;
    const { workerPath, log, createWorker, ...config } = this.options;
    const path = workerPath ?? join(__dirname, "worker.js");
    const w = createWorker ? createWorker(path, config) : new Worker(path, { workerData: config });
    const channel = new Channel<EngineHostApi, EngineApi>(nodePort(w), { makeError });
    channel.serve("log", ({ message, warning }) => log?.(message, warning));
    w.on("error", (e) => this.onCrash(w, `it threw: ${e.message}`));
    w.on("exit", (code) => this.onCrash(w, `it exited with code ${code}`));
    w.unref(); // an idle engine must not keep a CLI process alive
    this.worker = w;
    this.channel = channel;
    return channel;
  }

  private onCrash(w: Worker, why: string): void {
    if (this.worker !== w) return; // already replaced or disposed
    const channel = this.channel;
    this.worker = undefined;
    this.channel = undefined;
    this.options.log?.(`engine worker crashed (${why}); a new one starts with the next request`);
    channel?.close(
      new HeadLensError(`the analysis engine crashed (${why}); it has been restarted — run the analysis again`, "engine.crashed"),
    );
  }
}
