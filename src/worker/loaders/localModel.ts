/** The project's local model format: a folder with config.json (TransformerLens names) and
 * model.safetensors (TransformerLens state-dict names). */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { MAX_CONFIG_BYTES, ModelConfig, parseConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { parseSafetensors, parseSafetensorsHeader, safetensorsHeaderLength } from "../../core/safetensors";
import { checkTensorTable, ModelWeights, weightsFromSafetensors } from "../../core/weights";
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

/**
 * A model folder checked without reading its weights: config.json, the safetensors header (by the
 * format's rules) against the config's tensors, and the vocabulary's size. What "Add Model Folder"
 * and the tree use to mark a folder usable or broken.
 */
export function inspectModelFolder(dirArg: string): ModelConfig {
  const dir = resolve(dirArg);
  const config = readModelConfig(dir);
  const stPath = join(dir, "model.safetensors");
  const fd = weightsFile(stPath, (p) => openSync(p, "r"));
  try {
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(8);
    readSync(fd, prefix, 0, 8, 0);
    const n = safetensorsHeaderLength(prefix, size, stPath);
    const start = Buffer.alloc(8 + n);
    readSync(fd, start, 0, 8 + n, 0);
    const header = parseSafetensorsHeader(start, size, stPath);
    checkTensorTable(config, header.tensors, stPath, join(dir, "config.json"), size - header.dataOffset, header.metadata);
  } finally {
    closeSync(fd);
  }
  checkVocabulary(vocabularyFor(config, dir), config, dir);
  return config;
}

/** Opens (or reads) model.safetensors, or says the folder lacks it. */
function weightsFile<T>(path: string, open: (path: string) => T): T {
  try {
    return open(path);
  } catch {
    throw new HeadLensError(`${path}: missing; a model folder needs config.json and model.safetensors`, "model.missing");
  }
}

function checkVocabulary(vocab: Vocabulary, config: ModelConfig, dir: string): Vocabulary {
  if (vocab.size !== config.d_vocab) {
    throw new HeadLensError(`${dir}: vocabulary has ${vocab.size} ids but config.json says d_vocab ${config.d_vocab}`, "model.vocab");
  }
  return vocab;
}

export function loadLocalModel(dirArg: string): LoadedModel {
  const dir = resolve(dirArg);
  const config = readModelConfig(dir);
  const stPath = join(dir, "model.safetensors");
  const file = parseSafetensors(
    weightsFile(stPath, (p) => readFileSync(p)),
    stPath,
  );
  const weights = weightsFromSafetensors(config, file, join(dir, "config.json"));
  return { dir, config, weights, vocab: checkVocabulary(vocabularyFor(config, dir), config, dir) };
}
