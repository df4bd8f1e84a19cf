/**
 * Memory probes for the soak benchmark (bench/soak.ts): the extension host process found in /proc
 * (a descendant of code-server whose command line says it is one), its RSS from /proc, and its
 * JavaScript heaps after a forced GC through the Chrome DevTools Protocol — the extension host's own
 * isolate and, through the NodeWorker domain, the engine worker's (a worker_thread of that process).
 *
 * The inspector is opened the way Node offers for a running process: SIGUSR1 (code-server has no
 * --inspect-extensions flag). Its port is read from /proc (the listening socket the process owns).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../test/e2e/harness";
import type { IsolateMemory } from "./soakVerdict";

/** The one WebSocket client we need; `ws` is code-server's own dependency (Node 20 has no WebSocket). */
interface WebSocketLike {
  on(event: "message", f: (data: Buffer) => void): void;
  on(event: "open" | "close", f: () => void): void;
  on(event: "error", f: (e: Error) => void): void;
  send(data: string): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WebSocket = require(join(REPO, "test", "e2e", "node_modules", "ws")) as new (url: string) => WebSocketLike;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parentOf(pid: number): number {
  // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses: read after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid; p > 1; p = parentOf(p)) if (p === ancestor) return true;
  return false;
}

/** The pid of the extension host under `serverPid`: VS Code's server forks it with `--type=extensionHost`. */
export async function extensionHostPid(serverPid: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found: number[] = [];
    for (const name of readdirSync("/proc")) {
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        if (argv.includes("--type=extensionHost") && descendsFrom(pid, serverPid)) found.push(pid);
      } catch {
        /* a process that ended while we read */
      }
    }
    if (found.length === 1) return found[0];
    if (found.length > 1) throw new Error(`several extension hosts under code-server ${serverPid}: ${found.join(", ")}`);
    if (Date.now() > deadline) throw new Error(`no extension host process under code-server ${serverPid}`);
    await sleep(250);
  }
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** TCP ports in LISTEN state on sockets that process `pid` holds open. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT, st 0A is LISTEN, inode is the 10th field.
      if (f.length > 9 && f[3] === "0A" && inodes.has(f[9])) ports.push(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** A DevTools-protocol session: the process's main isolate, and the worker threads it attaches to. */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly workers = new Map<string, { url: string; sessionId: string }>();
  private readonly workerPending = new Map<string, Pending>();
  /** Heap-snapshot chunks being received, per session ("" = the main isolate). */
  private readonly chunks = new Map<string, string[]>();

  private constructor(private readonly socket: WebSocketLike) {
    socket.on("message", (data) => this.onMessage(JSON.parse(data.toString())));
    // The extension host dying mid-sample (what a soak may cause) fails the soak instead of hanging it.
    socket.on("close", () => {
      const gone = new Error("the inspected process closed its DevTools connection (did the extension host exit?)");
      for (const p of [...this.pending.values(), ...this.workerPending.values()]) p.reject(gone);
      this.pending.clear();
      this.workerPending.clear();
    });
  }

  /** Opens the inspector of a running Node process (SIGUSR1) and connects to it. */
  static async open(pid: number, timeoutMs = 30_000): Promise<Inspector> {
    const before = new Set(listeningPorts(pid));
    process.kill(pid, "SIGUSR1");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const port of listeningPorts(pid).filter((p) => !before.has(p))) {
        try {
          const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
          const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
          if (url) return await Inspector.connect(url);
        } catch {
          /* not the inspector, or not ready yet */
        }
      }
      if (Date.now() > deadline) throw new Error(`the inspector of process ${pid} did not open within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  private static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.on("open", () => resolve(new Inspector(socket)));
      socket.on("error", reject);
    });
  }

  private onMessage(m: { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown> }) {
    if (m.method === "HeapProfiler.addHeapSnapshotChunk") this.chunks.get("")?.push(m.params!.chunk as string);
    else if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m.result);
    } else if (m.method === "NodeWorker.attachedToWorker") {
      const info = m.params!.workerInfo as { url: string };
      this.workers.set(m.params!.sessionId as string, { url: info.url, sessionId: m.params!.sessionId as string });
    } else if (m.method === "NodeWorker.detachedFromWorker") {
      this.workers.delete(m.params!.sessionId as string);
    } else if (m.method === "NodeWorker.receivedMessageFromWorker") {
      const inner = JSON.parse(m.params!.message as string) as typeof m;
      if (inner.method === "HeapProfiler.addHeapSnapshotChunk")
        this.chunks.get(m.params!.sessionId as string)?.push(inner.params!.chunk as string);
      if (inner.id === undefined) return;
      const key = `${m.params!.sessionId}:${inner.id}`;
      const p = this.workerPending.get(key);
      this.workerPending.delete(key);
      if (inner.error) p?.reject(new Error(inner.error.message));
      else p?.resolve(inner.result);
    }
  }

  /** A protocol command on the main isolate. */
  send<T>(method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new Error(`${method}: no answer in 600 s`))), 600_000);
      const done = (f: (v: never) => void) => (v: unknown) => (clearTimeout(timer), f(v as never));
      this.pending.set(id, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** A protocol command on a worker thread's isolate. */
  sendToWorker<T>(sessionId: string, method: string, params: object = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.workerPending.set(`${sessionId}:${id}`, { resolve: resolve as (v: unknown) => void, reject });
      void this.send("NodeWorker.sendMessageToWorker", { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  }

  /** Attaches to the process's worker threads (running and future ones); none is paused. */
  async watchWorkers(): Promise<void> {
    await this.send("NodeWorker.enable", { waitForDebuggerOnStart: false });
  }

  /** The session of the one worker whose script URL ends with `suffix`. */
  async workerSession(suffix: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = [...this.workers.values()].filter((w) => w.url.endsWith(suffix));
      if (found.length === 1) return found[0].sessionId;
      if (found.length > 1) throw new Error(`several workers run ${suffix}: ${found.map((w) => w.url).join(", ")}`);
      if (Date.now() > deadline) {
        throw new Error(`no worker runs …${suffix}; workers: ${[...this.workers.values()].map((w) => w.url).join(", ") || "none"}`);
      }
      await sleep(200);
    }
  }

  /** The main isolate's memory after a full GC (or, with `sessionId`, a worker isolate's). */
  async heapAfterGc(sessionId?: string): Promise<IsolateMemory> {
    const send = <T>(method: string, params: object = {}) =>
      sessionId ? this.sendToWorker<T>(sessionId, method, params) : this.send<T>(method, params);
    await send("HeapProfiler.collectGarbage");
    const { usedSize } = await send<{ usedSize: number }>("Runtime.getHeapUsage");
    // The isolate's own view: ArrayBuffer backing stores (typed arrays) live outside the JS heap.
    const { result } = await send<{ result: { value: string } }>("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true,
    });
    const u = JSON.parse(result.value) as { external: number; arrayBuffers: number };
    return { heap: usedSize, external: u.external, arrayBuffers: u.arrayBuffers };
  }

  /** Writes a heap snapshot of the main isolate (or a worker's) to `file`: open two in DevTools' Memory tab, Comparison view. */
  async writeHeapSnapshot(file: string, sessionId?: string): Promise<void> {
    const chunks: string[] = [];
    this.chunks.set(sessionId ?? "", chunks);
    try {
      if (sessionId) await this.sendToWorker(sessionId, "HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      else await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    } finally {
      this.chunks.delete(sessionId ?? "");
    }
    writeFileSync(file, chunks.join(""));
  }

  close(): void {
    this.socket.close();
  }
}
