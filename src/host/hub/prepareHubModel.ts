/**
 * Turns a hub model (Neel-format config.json + `*final.pth`, or a named checkpoint and a config from
 * hub/knownModels.ts, + the tokenizer repo's tokenizer.json)
 * or a local .pth into a model folder Head Lens can analyze: a converted copy (TL-named F32
 * safetensors, HookedTransformerConfig config.json, tokenizer.json) in a cache folder. The
 * conversion itself runs in a worker (host/convertRunner.ts): this thread only downloads, hashes
 * file identities and checks the cache.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { MAX_CONFIG_BYTES } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { ConvertJob } from "../../protocol/convert";
import { ConvertRunOptions, runConversion } from "../convertRunner";
import { DownloadOptions, HubClient } from "./hubClient";
import { checkpointFile, HubModelSpec } from "./knownModels";

export interface PrepareOptions extends DownloadOptions {
  revision?: string;
  /** Called with a short description of each step (for status lines). */
  onStep?: (step: string) => void;
  /** How the conversion worker runs (its script, deadline, limits); defaults suit the bundle. */
  convert?: ConvertRunOptions;
}

export async function prepareHubModel(spec: HubModelSpec, hub: HubClient, storageDir: string, opts: PrepareOptions = {}): Promise<string> {
  const revision = opts.revision ?? "main";
  opts.onStep?.(`listing ${spec.repo}@${revision}`);
  const files = await hub.listFiles(spec.repo, revision, opts.signal);
  const pthName = checkpointFile(spec, files);
  if (!pthName) {
    const wanted = spec.file ?? "a file ending in final.pth";
    throw new HeadLensError(`${spec.repo}@${revision}: no ${wanted} (files: ${files.slice(0, 8).join(", ")})`, "hub.layout");
  }
  if (!spec.config && !files.includes("config.json")) throw new HeadLensError(`${spec.repo}@${revision}: no config.json`, "hub.layout");
  let configPath = `${spec.repo}: the config from ${spec.configSource ?? "Head Lens"}`;
  if (!spec.config) {
    opts.onStep?.(`downloading ${spec.repo}/config.json`);
    configPath = await hub.download(spec.repo, revision, "config.json", opts);
  }
  opts.onStep?.(`downloading ${spec.repo}/${pthName}`);
  const pthPath = await hub.download(spec.repo, revision, pthName, opts);
  opts.onStep?.(`downloading ${spec.tokenizerRepo}/tokenizer.json`);
  const tokenizerPath = await hub.download(spec.tokenizerRepo, "main", "tokenizer.json", opts);

  // The checkpoint's blob, and an inline config's own hash (a later Head Lens may correct it).
  const configKey = spec.config ? `-${createHash("sha256").update(JSON.stringify(spec.config)).digest("hex").slice(0, 8)}` : "";
  const key = basename(realpathSync(pthPath)).slice(0, 24) + configKey;
  const out = join(storageDir, "converted", `${spec.name}-${key}`);
  if (["config.json", "model.safetensors", "tokenizer.json"].every((f) => existsSync(join(out, f)))) return out;

  opts.onStep?.(`converting ${pthName}`);
  // A training checkpoint is named after it (attn-only-2l@<label>) wherever the model's name shows.
  const named = pthName.startsWith("checkpoints/") ? { model_name: spec.name } : {};
  const conversion = job(configPath, pthPath, tokenizerPath, out, spec.name, { hub_repo: spec.repo, hub_file: pthName, ...named });
  await runConversion(spec.config ? { ...conversion, config: spec.config } : conversion, opts.convert);
  return out;
}

/**
 * A .pth on disk (config.json, and tokenizer.json if any, beside it, or in `dir`: a model folder
 * whose checkpoints/ holds it) -> a cached converted folder.
 */
export async function prepareLocalPth(
  pthPath: string,
  storageDir: string,
  convert?: ConvertRunOptions,
  dir = dirname(pthPath),
  /** The converted model's name (a checkpoint's `<model>@<label>`); default: its config's. */
  name?: string,
): Promise<string> {
  const configPath = join(dir, "config.json");
  const configStat = statSync(configPath, { throwIfNoEntry: false });
  if (!configStat?.isFile()) throw new HeadLensError(`${pthPath}: a .pth needs its config.json in ${dir}`, "model.missing");
  if (configStat.size > MAX_CONFIG_BYTES) {
    throw new HeadLensError(
      `${configPath}: ${configStat.size} bytes is larger than any model config (limit ${MAX_CONFIG_BYTES}); is it the right file?`,
      "config.invalid",
    );
  }
  const tokenizer = join(dir, "tokenizer.json");
  const st = statSync(pthPath);
  // The cache key covers the checkpoint's identity and the config's bytes (hashed, never parsed here).
  const key = createHash("sha256")
    .update(`${realpathSync(pthPath)}|${st.size}|${st.mtimeMs}|`)
    .update(readFileSync(configPath))
    .update(name ?? "")
    .digest("hex")
    .slice(0, 24);
  const out = join(storageDir, "converted", `${basename(pthPath, ".pth")}-${key}`);
  if (existsSync(join(out, "model.safetensors"))) return out;
  const named = name ? { model_name: name } : {};
  await runConversion(
    job(configPath, pthPath, existsSync(tokenizer) ? tokenizer : undefined, out, basename(pthPath, ".pth"), named),
    convert,
  );
  return out;
}

function job(
  configPath: string,
  pthPath: string,
  tokenizerPath: string | undefined,
  out: string,
  name: string,
  extra: Record<string, unknown> = {},
): ConvertJob {
  // Unique per conversion: two windows converting the same file never share a temp folder.
  const tmp = `${out}.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { configPath, pthPath, tokenizerPath, out, tmp, name, extra };
}
