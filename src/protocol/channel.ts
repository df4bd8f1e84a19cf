/**
 * One small typed request/reply channel for both process boundaries (host ↔ engine worker,
 * host ↔ webview), in the spirit of vscode-hexeditor's MessageHandler. Each side declares the API
 * it serves as a map of method → { params, result, event? }; `call` sends a request and resolves
 * with its reply, streaming the handler's events to `onEvent`; `notify` sends one-way. A request
 * is cancelled with an AbortSignal (the handler sees `ctx.signal`). Errors cross as
 * { message, code } and are re-thrown on the caller's side as errors carrying that code.
 *
 * No value imports from outside src/protocol: this file also runs in the webview.
 */

export interface MethodSpec {
  params: unknown;
  result: unknown;
  event?: unknown;
}
export type Api = Record<string, MethodSpec>;

/** Anything that carries structured-cloneable messages both ways (a Worker, parentPort, a webview). */
export interface Port {
  post(message: unknown): void;
  /** Registers the message listener; returns a function that removes it. */
  listen(handler: (message: unknown) => void): () => void;
}

/** A Port over a Node worker or its parentPort (anything with postMessage/on/off for "message"). */
export function nodePort(target: {
  postMessage(m: unknown): void;
  on(ev: "message", h: (m: unknown) => void): unknown;
  off(ev: "message", h: (m: unknown) => void): unknown;
}): Port {
  return {
    post: (m) => target.postMessage(m),
    listen: (h) => {
      target.on("message", h);
      return () => void target.off("message", h);
    },
  };
}

type EventOf<S extends MethodSpec> = S extends { event: infer E } ? E : never;

export interface CallOptions<E> {
  signal?: AbortSignal;
  onEvent?: (event: E) => void;
}

export interface HandlerContext<E> {
  /** Streams one event to the caller (progress, partial results). */
  emit(event: E): void;
  signal: AbortSignal;
  /** Throws the "cancelled" error when the caller has cancelled. */
  throwIfCancelled(): void;
}

export type Handler<S extends MethodSpec> = (params: S["params"], ctx: HandlerContext<EventOf<S>>) => S["result"] | Promise<S["result"]>;

type Envelope =
  | { hl: "call"; id: number; method: string; params: unknown }
  | { hl: "notify"; method: string; params: unknown }
  | { hl: "event"; id: number; event: unknown }
  | { hl: "reply"; id: number; result: unknown }
  | { hl: "error"; id: number; message: string; code: string }
  | { hl: "cancel"; id: number };

export interface RemoteError extends Error {
  code: string;
}

/** Builds the error a failed call rejects with (by default an Error named HeadLensError with the code). */
export type ErrorFactory = (message: string, code: string) => Error;

const defaultError: ErrorFactory = (message, code) => Object.assign(new Error(message), { name: "HeadLensError", code });

interface Pending {
  resolve(result: unknown): void;
  reject(e: Error): void;
  onEvent?: (event: unknown) => void;
}

export class Channel<Serves extends Api, Calls extends Api> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Handler<MethodSpec>>();
  private readonly running = new Map<number, AbortController>();
  private readonly unlisten: () => void;
  private closedWith?: Error;

  constructor(
    private readonly port: Port,
    private readonly options: { makeError?: ErrorFactory; onUnhandledError?: (method: string, e: unknown) => void } = {},
  ) {
    this.unlisten = port.listen((m) => this.receive(m));
  }

  serve<M extends keyof Serves & string>(method: M, handler: Handler<Serves[M]>): this {
    this.handlers.set(method, handler as unknown as Handler<MethodSpec>);
    return this;
  }

  call<M extends keyof Calls & string>(
    method: M,
    params: Calls[M]["params"],
    opts: CallOptions<EventOf<Calls[M]>> = {},
  ): Promise<Calls[M]["result"]> {
    const make = this.options.makeError ?? defaultError;
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (opts.signal?.aborted) return Promise.reject(make("cancelled", "cancelled"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => this.port.post({ hl: "cancel", id } satisfies Envelope);
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => opts.signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r as Calls[M]["result"])),
        reject: (e) => (done(), reject(e)),
        onEvent: opts.onEvent as ((e: unknown) => void) | undefined,
      });
      this.port.post({ hl: "call", id, method, params } satisfies Envelope);
    });
  }

  notify<M extends keyof Calls & string>(method: M, params: Calls[M]["params"]): void {
    if (!this.closedWith) this.port.post({ hl: "notify", method, params } satisfies Envelope);
  }

  /** Calls waiting for a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Requests from the other side still being handled here. */
  get serving(): number {
    return this.running.size;
  }

  /** Fails every pending call with `error` (the other side is gone); later calls fail at once. */
  close(error: Error): void {
    this.closedWith = error;
    this.unlisten();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
    for (const ac of this.running.values()) ac.abort();
  }

  private receive(raw: unknown): void {
    const m = raw as Envelope;
    if (typeof m !== "object" || m === null || typeof (m as { hl?: unknown }).hl !== "string") return;
    switch (m.hl) {
      case "call":
        void this.run(m.id, m.method, m.params);
        return;
      case "notify":
        void this.run(undefined, m.method, m.params);
        return;
      case "cancel":
        this.running.get(m.id)?.abort();
        return;
      case "event":
        this.pending.get(m.id)?.onEvent?.(m.event);
        return;
      case "reply":
      case "error": {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.hl === "reply") p.resolve(m.result);
        else p.reject((this.options.makeError ?? defaultError)(m.message, m.code));
      }
    }
  }

  private async run(id: number | undefined, method: string, params: unknown): Promise<void> {
    const handler = this.handlers.get(method);
    const ac = new AbortController();
    if (id !== undefined) this.running.set(id, ac);
    const make = this.options.makeError ?? defaultError;
    const ctx: HandlerContext<unknown> = {
      emit: (event) => id !== undefined && this.port.post({ hl: "event", id, event } satisfies Envelope),
      signal: ac.signal,
      throwIfCancelled: () => {
        if (ac.signal.aborted) throw make("cancelled", "cancelled");
      },
    };
    try {
      if (!handler) throw make(`no handler for "${method}"`, "internal");
      const result = await handler(params, ctx);
      if (id !== undefined) this.port.post({ hl: "reply", id, result } satisfies Envelope);
    } catch (e) {
      if (id === undefined) {
        this.options.onUnhandledError?.(method, e);
        return;
      }
      const err = e as Partial<RemoteError>;
      const message = e instanceof Error ? e.message : String(e);
      const code = typeof err?.code === "string" && err.name === "HeadLensError" ? err.code : ac.signal.aborted ? "cancelled" : "internal";
      this.port.post({ hl: "error", id, message, code } satisfies Envelope);
    } finally {
      if (id !== undefined) this.running.delete(id);
    }
  }
}
