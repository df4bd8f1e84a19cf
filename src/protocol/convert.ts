/** Messages between the host and the checkpoint-conversion worker (dist/convertWorker.js). */

/** One conversion, given to the worker as its workerData. */
export interface ConvertJob {
  /** config.json beside the checkpoint (TransformerLens or Neel names); with `config`, only its label in messages. */
  configPath: string;
  /** The config itself, for a hub model whose repo has none (its config lives in code: hub/knownModels.ts). */
  config?: Record<string, unknown>;
  /** The user's .pth: every error names it. */
  pthPath: string;
  /** tokenizer.json to copy into the converted folder (and to read BOS from), if any. */
  tokenizerPath?: string;
  /** The converted folder's final path (the cache entry). */
  out: string;
  /** Where the worker writes before renaming to `out`; the host removes it after a failure. */
  tmp: string;
  /** Model name when the config has none. */
  name: string;
  /** Extra fields for the converted config.json (e.g. the hub repo). */
  extra: Record<string, unknown>;
}

/** A checkpoint's data.pkl, read by the host with byte ranges, to be unpickled in the worker (never on the host). */
export interface PlanJob {
  /** The checkpoint as the user knows it (a hub path or a file): every error names it. */
  label: string;
  pickle: Uint8Array;
  /** The archive's folder inside the zip (`<archive>/`), from the data.pkl entry's name. */
  prefix: string;
  /** Uncompressed size of every zip entry, by name (a storage must exist and be large enough). */
  entrySizes: Record<string, number>;
  /** The model's tokenizer.json, to find BOS as a conversion would (its config's bos_token_id wins). */
  tokenizer?: { path: string; dVocab: number; name: string; bos?: number };
}

/** One tensor of a checkpoint: which zip entry holds it and how its elements lie there. */
export interface PlannedTensor {
  name: string;
  entry: string;
  /** safetensors-style dtype of the storage ("F32", "F16", "BF16", "I64", …). */
  dtype: string;
  /** Bytes per element. */
  elementBytes: number;
  /** In elements, from the entry's start. */
  offset: number;
  shape: number[];
  stride: number[];
}

export interface PlanResult {
  tensors: PlannedTensor[];
  /** BOS as the converted model would have it, when a tokenizer was given. */
  bos?: number;
}

/** Served by the conversion worker; errors cross as { message, code } and name the user's file. */
export type ConvertApi = {
  convert: { params: ConvertJob; result: void };
  plan: { params: PlanJob; result: PlanResult };
};
