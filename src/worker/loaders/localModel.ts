/** The project's local model format: a folder with config.json (TransformerLens names) and
 * model.safetensors (TransformerLens state-dict names). */
import { readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MAX_CONFIG_BYTES, ModelConfig, parseConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { parseSafetensors } from "../../core/safetensors";
import { ModelWeights, weightsFromSafetensors } from "../../core/weights";
import { readBoundedJson } from "./jsonFile";
import { Vocabulary, vocabularyFor } from "./vocabulary";

export interface LoadedModel {
  dir: string;
  config: ModelConfig;
  /** Raw (unprocessed) weights. */
  weights: ModelWeights;
  vocab: Vocabulary;
}

export function readModelConfig(dirArg: string): ModelConfig {
  const dir = resolve(dirArg);
  const path = join(dir, "config.json");
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) throw new HeadLensError(`model folder ${dir} does not exist or is not a folder`, "model.missing");
  let raw: unknown;
  try {
    raw = readBoundedJson(path, MAX_CONFIG_BYTES, "model config", "config.invalid");
  } catch (e) {
    if (e instanceof HeadLensError) throw e;
    throw new HeadLensError(`${path}: missing; a model folder needs config.json and model.safetensors`, "model.missing");
  }
  return parseConfig(raw, path, basename(dir));
}

export function loadLocalModel(dirArg: string): LoadedModel {
  const dir = resolve(dirArg);
  const config = readModelConfig(dir);
  const stPath = join(dir, "model.safetensors");
  let bytes: Buffer;
  try {
    bytes = readFileSync(stPath);
  } catch {
    throw new HeadLensError(`${stPath}: missing; a model folder needs config.json and model.safetensors`, "model.missing");
  }
  const file = parseSafetensors(bytes, stPath);
  const weights = weightsFromSafetensors(config, file, join(dir, "config.json"));
  const vocab = vocabularyFor(config, dir);
  if (vocab.size !== config.d_vocab) {
    throw new HeadLensError(`${dir}: vocabulary has ${vocab.size} ids but config.json says d_vocab ${config.d_vocab}`, "model.vocab");
  }
  return { dir, config, weights, vocab };
}
