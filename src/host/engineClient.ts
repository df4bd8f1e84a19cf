/**
 * Host side of the engine: owns the worker thread, queues requests, streams typed events,
 * cancels through a shared flag the worker checks between blocks, and replaces a crashed worker
 * (the requests it held fail with a clear error).
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { HeadLensError } from "../core/errors";
import { HeadReport } from "../core/report";
import { TokenInHead } from "../protocol/headDetails";
import { AnalyzeRequest, EngineEvent, HostToWorker, TokenRequest, WorkerConfig, WorkerToHost } from "../protocol/engine";

export interface EngineClientOptions extends WorkerConfig {
  /** Path of the bundled worker script (dist/worker.js). */
  workerPath?: string;
  log?: (message: string) => void;
}

export interface AnalyzeOptions {
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

interface Pending {
  resolve: (reports: HeadReport[]) => void;
  reject: (e: Error) => void;
  reports: HeadReport[];
  onEvent?: (event: EngineEvent) => void;
  onToken?: (result: TokenInHead) => void;
}

export class EngineClient {
  private worker?: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private disposed = false;

  constructor(private readonly options: EngineClientOptions) {}

  analyze(request: AnalyzeRequest, opts: AnalyzeOptions = {}): Promise<HeadReport[]> {
    if (this.disposed) return Promise.reject(new HeadLensError("the engine has been shut down", "engine.disposed"));
    if (opts.signal?.aborted) return Promise.reject(new HeadLensError("analysis cancelled", "cancelled"));
    const worker = this.ensureWorker();
    const requestId = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    return new Promise<HeadReport[]>((resolve, reject) => {
      const onAbort = () => Atomics.store(new Int32Array(cancel), 0, 1);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => opts.signal?.removeEventListener("abort", onAbort);
      this.pending.set(requestId, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        reports: [],
        onEvent: opts.onEvent,
      });
      const msg: HostToWorker = { type: "analyze", requestId, request, cancel };
      worker.ref(); // keep the process alive while work is pending
      worker.postMessage(msg);
    });
  }

  /** What one token does in one head (hover); queued behind running analyses. */
  tokenInHead(request: TokenRequest): Promise<TokenInHead> {
    if (this.disposed) return Promise.reject(new HeadLensError("the engine has been shut down", "engine.disposed"));
    const worker = this.ensureWorker();
    const requestId = this.nextId++;
    return new Promise<TokenInHead>((resolve, reject) => {
      this.pending.set(requestId, { resolve: () => {}, reject, reports: [], onToken: resolve });
      const msg: HostToWorker = { type: "token", requestId, request };
      worker.ref();
      worker.postMessage(msg);
    });
  }

  /** Test hook: makes the worker die as a native crash would. */
  crashForTesting(): void {
    const msg: HostToWorker = { type: "crashForTesting" };
    this.worker?.postMessage(msg);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new HeadLensError("the engine was shut down", "engine.disposed"));
    await w?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const { workerPath, log, ...config } = this.options;
    const w = new Worker(workerPath ?? join(__dirname, "worker.js"), { workerData: config });
    w.on("message", (m: WorkerToHost) => this.onMessage(m));
    w.on("error", (e) => this.onCrash(w, `it threw: ${e.message}`));
    w.on("exit", (code) => this.onCrash(w, `it exited with code ${code}`));
    w.unref(); // an idle engine must not keep a CLI process alive
    this.worker = w;
    return w;
  }

  private onCrash(w: Worker, why: string): void {
    if (this.worker !== w) return; // already replaced or disposed
    this.worker = undefined;
    this.options.log?.(`engine worker crashed (${why}); a new one starts with the next request`);
    this.failAll(new HeadLensError(`the analysis engine crashed (${why}); it has been restarted — run the analysis again`, "engine.crashed"));
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }

  private settled(requestId: number): void {
    this.pending.delete(requestId);
    if (this.pending.size === 0) this.worker?.unref();
  }

  private onMessage(m: WorkerToHost): void {
    if (m.type === "log" || m.type === "ready") {
      if (m.type === "log") this.options.log?.(m.message);
      return;
    }
    const p = this.pending.get(m.requestId);
    if (!p) return;
    switch (m.type) {
      case "error":
        this.settled(m.requestId);
        p.reject(new HeadLensError(m.message, m.code));
        return;
      case "head":
        p.reports.push(m.report);
        break;
      case "token":
        this.settled(m.requestId);
        p.onToken?.(m.result);
        return;
      case "done":
        this.settled(m.requestId);
        p.onEvent?.(m);
        p.resolve(p.reports);
        return;
    }
    p.onEvent?.(m);
  }
}
