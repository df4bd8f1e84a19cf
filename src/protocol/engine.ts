/**
 * The host ↔ engine-worker API. The worker owns all model state (weights, vocabulary, tokenizer,
 * priors); the host names a model by its folder and a prior by its spec, and every answer carries
 * the Identity it was computed from, which keys every cache.
 */
import type { ModelConfig } from "../core/config";
import type { ErrorCode } from "../core/errors";
import type { PriorSpec } from "../core/priorSpec";
import type { HeadRef } from "../core/heads";
import type { ModelMetrics } from "../core/headMetrics";
import type { HeadReport, PathRef, ReportSizes } from "../core/report";
import type { ReportSettings } from "../core/reportSettings";
import type { HeadDetails, TokenInHead } from "./headDetails";
import type { ExplainParams, ExplainResult } from "./explain";
import type { PatchParams, PatchResult } from "./whatIf";
import type { AttentionEvent, AttentionParams, AttentionResult, PatternParams, PatternResult } from "./attention";
import type { LightMetrics, LightMetricsParams } from "./timeline";

export type ExecutionProvider = "cuda" | "dml" | "coreml" | "webgpu" | "cpu";
export const KNOWN_EPS: readonly ExecutionProvider[] = ["cuda", "dml", "coreml", "webgpu", "cpu"];
export const DEFAULT_EP_PREFERENCE: readonly ExecutionProvider[] = ["cpu"];

/**
 * "dense": the full float32 V² pass (the oracle, and the fast path on GPU providers); "pruned": exact
 * key selection from a cascade of rigorous bounds (cheap ones, then int8 passes over the keys left);
 * "auto": pruned where it was measured to pay (CPU, V ≥ 8192). All give the same report.
 */
export type Strategy = "auto" | "dense" | "pruned";
export const STRATEGIES: readonly Strategy[] = ["auto", "dense", "pruned"];
export const DEFAULT_STRATEGY: Strategy = "auto";

/** Memory for one streamed block, in MiB: 64 rows of a 48k-vocab slab, small enough to stay near the
 * caches, large enough to amortize a run (fastest measured on a 2-core laptop CPU). */
export const DEFAULT_BLOCK_MB = 12;
export const BLOCK_MB_LIMITS = { min: 1, max: 4096 } as const;
export const MIB = 1024 * 1024;

/** Fixed at worker start (workerData). */
export interface WorkerConfig {
  epPreference: ExecutionProvider[];
  /** Bytes one streamed block may use (bounds peak memory independently of V). */
  blockBytes: number;
  /** Folder with priors/ (the package's media folder). */
  mediaDir: string;
  threads?: number;
  /** Where results are kept across requests and sessions (the extension's global storage); none: no result cache. */
  cacheDir?: string;
  /** An onnxruntime-node installed with the CUDA provider (src/host/gpu/cudaProvider.ts); none: the bundled one. */
  ortRoot?: string;
}

/**
 * What a result was computed from. `model`: sha256 of the model's files (config.json,
 * model.safetensors, tokenizer/vocabulary map); `prior`: "uniform", or "bundled:" / "words:" + the
 * sha256 of the counts or words file actually read.
 */
export interface Identity {
  model: string;
  prior: string;
}

/** A model (by folder) under a prior: the host's whole reference to model state. */
export interface ModelRequest {
  modelDir: string;
  priors: PriorSpec;
}

export interface AnalyzeParams extends ModelRequest {
  heads: HeadRef[] | "all";
  sizes: ReportSizes;
  strategy?: Strategy;
  /** Analyze each head's composition path through this earlier head instead of its direct path. */
  via?: PathRef;
  /** Answer only what the result cache holds; compute nothing (tree descriptions, Copy Report). */
  cachedOnly?: boolean;
}

/** One head's analysis (its direct path, or one path of it), as every side keeps and shows it. */
export interface HeadResult {
  report: HeadReport;
  details: HeadDetails;
  elapsedMs: number;
  /** Served from the result cache. */
  cached: boolean;
  /** The settings it was computed with: a panel shows it only while they are the ones displayed. */
  computedWith: ReportSettings;
  /** What it was computed from (model and prior content). */
  identity: Identity;
}

export type AnalyzeEvent =
  /** First, before anything is loaded: the identity, the heads the cache answers (their results
   * follow at once) and the heads to compute. */
  | { type: "identified"; identity: Identity; cached: HeadRef[]; computing: HeadRef[] }
  /** The computation starts (only when some heads are not cached). */
  | {
      type: "started";
      model: string;
      ep: ExecutionProvider;
      heads: HeadRef[];
      prior: string;
      identity: Identity;
      strategy: "dense" | "pruned" | "path";
    }
  | { type: "progress"; fraction: number; layer: number; head: number }
  | ({ type: "head" } & HeadResult);

export interface AnalyzeResult {
  identity: Identity;
  elapsedMs: number;
}

/** A model folder checked cheaply (config.json and the safetensors header, no weights read). */
export interface ModelDescription {
  dir: string;
  config?: ModelConfig;
  error?: string;
  code?: ErrorCode;
}

export interface HoverParams extends ModelRequest {
  text: string;
  maxTokens: number;
  /** The head whose figures to include for the first token, if any. */
  head?: HeadRef;
  /** Outputs and preferred keys listed. */
  n: number;
}

export interface HoverResult {
  model: string;
  identity: Identity;
  vocabSize: number;
  /** Where the prior came from (e.g. "uniform"). */
  prior: string;
  tokens: { id: number; token: string; p: number }[];
  inHead?: TokenInHead;
}

/** One token, every head: where it ranks as a key, and what it does there. */
export interface TokenParams extends ModelRequest {
  token: { text: string } | { id: number };
  /** Best keys listed per head. */
  n: number;
  strategy?: Strategy;
}

export interface TokenHead {
  layer: number;
  head: number;
  /** Exact rank among all V keys by importance (0 = the head's most important key). */
  keyRank: number;
  importance: number;
  maxQK: number;
  maxOV: number;
  /** The keys this token prefers most as a query (by QKn[token, k]). */
  bestKeys: { id: number; token: string; score: number }[];
  /** Where the token itself ranks among its own OV outputs (0 = it boosts itself most). */
  selfOutputRank: number;
}

export interface TokenResult {
  model: string;
  token: { id: number; token: string };
  /** Sorted by keyRank. */
  heads: TokenHead[];
}

/** Served by the engine worker. */
export type EngineApi = {
  describe: { params: { modelDir: string }; result: ModelDescription };
  identify: { params: ModelRequest; result: Identity };
  analyze: { params: AnalyzeParams; result: AnalyzeResult; event: AnalyzeEvent };
  hover: { params: HoverParams; result: HoverResult };
  metrics: { params: { modelDir: string }; result: ModelMetrics & { identity: string } };
  /** Every metric but copying, of a checkpoint read in part (a light folder the host wrote: timeline.ts). */
  lightMetrics: { params: LightMetricsParams; result: LightMetrics };
  token: { params: TokenParams; result: TokenResult; event: { type: "progress"; fraction: number } | { type: "head"; head: TokenHead } };
  /** The model run forward on a text or ids (live attention); patterns stream first. */
  attention: { params: AttentionParams; result: AttentionResult; event: AttentionEvent };
  /** One head's exact pattern from a recent `attention` run. */
  attentionPattern: { params: PatternParams; result: PatternResult };
  /** Activation patching of every head's result from a clean run into a corrupted one (whatIf.ts). */
  patch: { params: PatchParams; result: PatchResult };
  /** Why a head attends from a query to its keys, on a recent `attention` run (explain.ts). */
  explain: { params: ExplainParams; result: ExplainResult };
  /** Cancel everything and end the thread once no native call is running (terminating a worker
   * inside onnxruntime's session.run aborts the whole process). */
  shutdown: { params: Record<string, never>; result: void };
};

/** Served by the host for the worker. */
export type EngineHostApi = {
  /** `warning`: the user should see it (a provider they asked for is not used, and why). */
  log: { params: { message: string; warning?: boolean }; result: void };
};
