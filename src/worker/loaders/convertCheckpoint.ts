/**
 * A TransformerLens .pth + its config.json -> a local model folder (TL-named F32 safetensors,
 * HookedTransformerConfig config.json, tokenizer.json). Runs in the conversion worker, never on the
 * extension host. Everything is checked before anything large is allocated or written: the config's
 * bounds, the config against the checkpoint's stored bytes, every required tensor's presence,
 * shape and dtype; each tensor's values (NaN / Inf) as it is decoded. Errors name the user's files.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MAX_CONFIG_BYTES, ModelConfig, checkConfigFitsWeights } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { parseAnyConfig } from "../../core/neelConfig";
import { safetensorsHeader, unsupportedDtype } from "../../core/safetensors";
import { checkFinite, checkShape, expectedShapes } from "../../core/weights";
import { ConvertJob } from "../../protocol/convert";
import { HfTokenizerVocabulary } from "./hfTokenizer";
import { readBoundedJson } from "./jsonFile";
import { PthCheckpoint, openPth } from "./pth";

const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);

export async function convertCheckpoint(job: ConvertJob): Promise<void> {
  try {
    await convertInto(job);
  } catch (e) {
    rmSync(job.tmp, { recursive: true, force: true }); // never leave a half-written cache entry
    throw e;
  }
}

async function convertInto(job: ConvertJob): Promise<void> {
  const { config, tokenizerName } = readConfig(job);
  if (tokenizerName !== undefined && tokenizerName !== "gpt2" && !job.tokenizerPath) {
    throw new HeadLensError(
      `${job.pthPath}: its config names tokenizer "${String(tokenizerName)}"; put that tokenizer's tokenizer.json beside the .pth`,
      "tokenizer.missing",
    );
  }
  // A config's bos_token_id wins over the tokenizer's guess (<|BOS|>, else <|endoftext|>).
  const bos = job.tokenizerPath
    ? HfTokenizerVocabulary.fromFile(job.tokenizerPath, config.d_vocab, config.tokenizer_name, config.bos_token_id).bos
    : config.bos_token_id;
  const ckpt = await openPth(await readFile(job.pthPath), job.pthPath);
  checkConfigFitsWeights(config, job.configPath, job.pthPath, ckpt.storageBytes);
  const shapes = [...expectedShapes(config)];
  for (const [name, shape] of shapes) checkRequired(ckpt, name, shape);

  rmSync(job.tmp, { recursive: true, force: true });
  mkdirSync(job.tmp, { recursive: true });
  writeTensors(join(job.tmp, "model.safetensors"), ckpt, shapes, job.pthPath);
  writeFileSync(
    join(job.tmp, "config.json"),
    JSON.stringify({ ...config, ...(bos !== undefined ? { bos_token_id: bos } : {}), ...job.extra }, null, 2),
  );
  if (job.tokenizerPath) copyFileSync(job.tokenizerPath, join(job.tmp, "tokenizer.json"));
  rmSync(job.out, { recursive: true, force: true });
  renameSync(job.tmp, job.out); // atomic: a half-written conversion is never used
}

function readConfig(job: ConvertJob): { config: ModelConfig; tokenizerName: unknown } {
  if (job.config) return { config: parseAnyConfig(job.config, job.configPath, job.name), tokenizerName: job.config.tokenizer_name };
  if (!existsSync(job.configPath))
    throw new HeadLensError(`${job.pthPath}: a .pth needs its config.json in the same folder`, "model.missing");
  const raw = readBoundedJson(job.configPath, MAX_CONFIG_BYTES, "model config", "config.invalid");
  const tokenizerName = typeof raw === "object" && raw !== null ? (raw as { tokenizer_name?: unknown }).tokenizer_name : undefined;
  return { config: parseAnyConfig(raw, job.configPath, job.name), tokenizerName };
}

function checkRequired(ckpt: PthCheckpoint, name: string, shape: number[]): void {
  const dtype = ckpt.dtypeOf(name);
  if (!dtype)
    throw new HeadLensError(`${ckpt.label}: tensor "${name}" [${shape.join(", ")}] is missing from the state dict`, "weights.missing");
  checkShape(ckpt.label, name, ckpt.shapeOf(name)!, shape);
  if (!FLOAT_DTYPES.has(dtype)) throw new HeadLensError(`${ckpt.label}: ${unsupportedDtype(dtype, name)}`, "weights.dtype");
}

/** Streams F32 safetensors to disk one tensor at a time: peak memory is one decoded tensor. */
function writeTensors(path: string, ckpt: PthCheckpoint, shapes: [string, number[]][], source: string): void {
  const fd = openSync(path, "w");
  try {
    writeSync(
      fd,
      safetensorsHeader(
        shapes.map(([name, shape]) => ({ name, dtype: "F32" as const, shape })),
        { source },
      ),
    );
    for (const [name] of shapes) {
      const t = ckpt.read(name);
      checkFinite(ckpt.label, name, t.data);
      writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // little-endian hosts only, as onnxruntime
    }
  } finally {
    closeSync(fd);
  }
}
