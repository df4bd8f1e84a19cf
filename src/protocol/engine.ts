/** The one typed protocol between the host (extension or CLI) and the engine worker. */
import { HeadReport, ReportSizes } from "../core/report";
import { HeadDetails, TokenInHead } from "./headDetails";
import { PriorSpec } from "../worker/loaders/priors";
import { ExecutionProvider } from "../worker/ortBackend";

export interface HeadRef {
  layer: number;
  head: number;
}

/** Fixed at worker start (workerData). */
export interface WorkerConfig {
  epPreference: ExecutionProvider[];
  /** Bytes one streamed block may use (bounds peak memory independently of V). */
  blockBytes: number;
  /** Folder with priors/ (the package's media folder). */
  mediaDir: string;
  threads?: number;
}

/**
 * "dense": the full float32 V² pass (the oracle, and the fast path on GPU providers); "pruned": exact
 * key selection from int8 bounds (prunedAnalysis.ts); "auto": pruned where it was measured to pay.
 * All three give the same report.
 */
export type Strategy = "auto" | "dense" | "pruned";

export interface AnalyzeRequest {
  modelDir: string;
  heads: HeadRef[] | "all";
  priors: PriorSpec;
  sizes: ReportSizes;
  strategy?: Strategy;
}

export interface TokenRequest {
  modelDir: string;
  layer: number;
  head: number;
  tokenId: number;
  priors: PriorSpec;
  n: number;
}

export type HostToWorker =
  | { type: "analyze"; requestId: number; request: AnalyzeRequest; cancel: SharedArrayBuffer }
  | { type: "token"; requestId: number; request: TokenRequest }
  /** Test hook: throw an uncaught error in the worker, as a native crash would end it. */
  | { type: "crashForTesting" };

export type WorkerToHost =
  | { type: "ready"; ep: ExecutionProvider }
  | { type: "log"; message: string }
  | { type: "started"; requestId: number; model: string; ep: ExecutionProvider; heads: HeadRef[]; prior: string }
  | { type: "progress"; requestId: number; fraction: number; layer: number; head: number }
  | { type: "head"; requestId: number; report: HeadReport; details: HeadDetails; elapsedMs: number }
  | { type: "token"; requestId: number; result: TokenInHead }
  | { type: "done"; requestId: number; elapsedMs: number }
  | { type: "error"; requestId: number; message: string; code: string };

/** Events a caller of EngineClient.analyze sees (the worker's, minus bookkeeping). */
export type EngineEvent =
  | Extract<WorkerToHost, { type: "started" | "progress" | "head" | "done" }>;
