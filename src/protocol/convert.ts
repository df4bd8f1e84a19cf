/** Messages between the host and the checkpoint-conversion worker (dist/convertWorker.js). */
import type { ModelConfig } from "../core/config";

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

/** Bytes of a checkpoint the host read (a byte range starting at `start`). */
export interface ByteSpan {
  start: number;
  bytes: Uint8Array;
}

/**
 * What the light timeline needs to know of a checkpoint it reads in part, from bytes the host read
 * with ranges: its end (`tail`: the zip's directory) and any other spans (data.pkl, asked for by a
 * `need` answer). Zip directory and pickle are parsed in the worker, never on the host.
 */
export interface PlanJob {
  /** The checkpoint as the user knows it (a hub path or a file): every error names it. */
  label: string;
  /** The file's size in bytes. */
  size: number;
  tail: ByteSpan;
  spans: ByteSpan[];
  /**
   * Where BOS comes from, as loading the model would find it: a hub model's tokenizer.json (its
   * config's bos_token_id wins), or a model folder (its tokenizer.json, vocab map or GPT-2's).
   */
  bos?: { tokenizer: { path: string; dVocab: number; name: string; bos?: number } } | { modelDir: string; config: ModelConfig };
}

/** A zip entry, from the directory. */
export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  size: number;
  /** Offset of its local header. */
  localHeader: number;
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

/** The plan, or the bytes [start, end) the worker needs first (the host reads them and asks again). */
export type PlanResult =
  | { need: [number, number] }
  | {
      entries: ZipEntryInfo[];
      tensors: PlannedTensor[];
      /** BOS as the converted model would have it, when a tokenizer was given. */
      bos?: number;
    };

/** Named entries of a downloaded archive (the CUDA provider's .nupkg) written to files. */
export interface ExtractJob {
  archive: string;
  /** Output file name → entry name in the archive. */
  files: Record<string, string>;
  dir: string;
}

/** Served by the conversion worker; errors cross as { message, code } and name the user's file. */
export type ConvertApi = {
  convert: { params: ConvertJob; result: void };
  plan: { params: PlanJob; result: PlanResult };
  extract: { params: ExtractJob; result: void };
};
