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

/** Served by the conversion worker; errors cross as { message, code } and name the user's file. */
export type ConvertApi = {
  convert: { params: ConvertJob; result: void };
};
