/**
 * A model's checkpoints, from the hub (its tree API; the same client, token, offline and cache
 * rules as every download) or from a model folder's `checkpoints/` (beside its config.json): how to
 * list them, read one in part, and open one as a whole model that every feature works on.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { CheckpointFile, CheckpointListing, checkpointListing, ListedEntry, MAX_LISTING_ENTRIES } from "../../core/checkpoints";
import { MAX_CONFIG_BYTES, ModelConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { parseAnyConfig } from "../../core/neelConfig";
import { PlanJob } from "../../protocol/convert";
import { ConvertRunOptions } from "../convertRunner";
import { DownloadOptions, HubClient } from "../hub/hubClient";
import { listTree } from "../hub/hubTree";
import { hubModel, HubModelSpec } from "../hub/knownModels";
import { prepareHubModel, prepareLocalPth } from "../hub/prepareHubModel";
import { ByteSource, fileSource, hubSource } from "./byteSource";

export interface CheckpointDeps {
  hub: HubClient;
  /** Head Lens's cache (converted models, timeline results, ranges read). */
  storageDir: string;
  revision?: string;
  convert?: ConvertRunOptions;
}

export interface ModelCheckpoints {
  /** The model as the user named it. */
  model: string;
  listing: CheckpointListing;
  /** A stable key of a checkpoint's content (the hub's etag; a local file's path, size and time), for every cache. */
  key(c: CheckpointFile): Promise<string>;
  config(): Promise<ModelConfig>;
  /** Where BOS comes from, for a partial read's plan. */
  bosSource(): Promise<PlanJob["bos"]>;
  /** What, beside a checkpoint's bytes, its figures depend on (config, tokenizer files): part of every cache key. */
  identity(): Promise<string>;
  /** The checkpoint's bytes (nothing is read until asked). */
  source(c: CheckpointFile, signal?: AbortSignal): Promise<ByteSource>;
  /** The checkpoint as a whole model folder (downloaded and converted when it must be). */
  open(c: CheckpointFile, opts?: DownloadOptions & { onStep?: (s: string) => void }): Promise<string>;
}

export async function modelCheckpoints(model: string, deps: CheckpointDeps, signal?: AbortSignal): Promise<ModelCheckpoints> {
  const path = resolve(model);
  if (existsSync(path) && statSync(path).isDirectory()) return folderCheckpoints(model, path, deps);
  const spec = hubModel(model);
  if (!spec) throw new HeadLensError(`model "${model}" is neither a model folder nor a hub model with checkpoints`, "model.missing");
  return hubCheckpoints(model, spec, deps, signal);
}

/** The files' real paths, sizes and times, hashed (a file that is absent counts as absent). */
function filesIdentity(files: string[]): string {
  const h = createHash("sha256");
  for (const f of files) {
    const st = statSync(f, { throwIfNoEntry: false });
    h.update(st ? `${realpathSync(f)}|${st.size}|${st.mtimeMs}\n` : `${f}|absent\n`);
  }
  return h.digest("hex").slice(0, 16);
}

function readConfigFile(dir: string): ModelConfig {
  const p = join(dir, "config.json");
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new HeadLensError(`${dir}: no config.json beside checkpoints/`, "model.missing");
  if (st.size > MAX_CONFIG_BYTES) throw new HeadLensError(`${p}: ${st.size} bytes is larger than any model config`, "config.invalid");
  return parseAnyConfig(JSON.parse(readFileSync(p, "utf8")), p, "model");
}

function folderCheckpoints(model: string, dir: string, deps: CheckpointDeps): ModelCheckpoints {
  const folder = join(dir, "checkpoints");
  if (!existsSync(folder))
    throw new HeadLensError(`${dir}: has no checkpoints/ folder (files <name>_<number>.pth or .safetensors)`, "model.checkpoint");
  const names = readdirSync(folder).slice(0, MAX_LISTING_ENTRIES + 1);
  // Files, and links to files (a Hugging Face snapshot folder is links into blobs/); nothing else.
  const notFiles = names.filter((n) => !statSync(join(folder, n), { throwIfNoEntry: false })?.isFile());
  const entries: ListedEntry[] = names.filter((n) => !notFiles.includes(n)).map((n) => ({ path: `checkpoints/${n}` }));
  const listing = checkpointListing(entries, folder);
  listing.ignored.push(...notFiles.map((n) => `${JSON.stringify(`checkpoints/${n}`)}: not a file (a folder, or a link to nothing)`));
  for (const c of listing.checkpoints) c.size = statSync(join(dir, c.file)).size;
  const config = () => Promise.resolve(readConfigFile(dir));
  const identity = async () => {
    const c = await config();
    return filesIdentity(["config.json", "tokenizer.json", c.vocab_map].filter((f): f is string => !!f).map((f) => join(dir, f)));
  };
  const key = async (c: CheckpointFile) => {
    const p = join(dir, c.file);
    const st = statSync(p);
    return createHash("sha256")
      .update(`${realpathSync(p)}|${st.size}|${st.mtimeMs}`)
      .digest("hex")
      .slice(0, 32);
  };
  return {
    model,
    listing,
    key,
    config,
    bosSource: async () => ({ modelDir: dir, config: await config() }),
    identity,
    source: async (c) => fileSource(join(dir, c.file)),
    open: async (c) => {
      const file = join(dir, c.file);
      const name = `${(await config()).model_name}@${c.label}`;
      if (file.endsWith(".pth")) return prepareLocalPth(file, deps.storageDir, deps.convert, dir, name);
      // Keyed by the folder's config and tokenizer files too: the view holds a copy of its config.
      return checkpointView(dir, file, name, join(deps.storageDir, "checkpoints", `${await key(c)}-${await identity()}`));
    },
  };
}

/**
 * A .safetensors checkpoint as a model folder: its weights and the model folder's tokenizer files
 * linked (copied where links are not allowed), config.json written with the checkpoint's name.
 */
function checkpointView(dir: string, weights: string, name: string, out: string): string {
  if (existsSync(join(out, "model.safetensors"))) return out;
  const raw = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const link = (from: string, to: string) => {
    try {
      symlinkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
  };
  link(weights, join(tmp, "model.safetensors"));
  for (const f of ["tokenizer.json", raw.vocab_map, raw.priors])
    if (typeof f === "string" && /^[\w.-]+$/.test(f) && statSync(join(dir, f), { throwIfNoEntry: false })?.isFile())
      link(join(dir, f), join(tmp, f));
  writeFileSync(join(tmp, "config.json"), JSON.stringify({ ...raw, model_name: name }, null, 2));
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return out;
}

async function hubCheckpoints(model: string, spec: HubModelSpec, deps: CheckpointDeps, signal?: AbortSignal): Promise<ModelCheckpoints> {
  const { hub } = deps;
  const revision = deps.revision ?? "main";
  const listing = checkpointListing(
    await listTree(hub, spec.repo, revision, "checkpoints", deps.storageDir, signal),
    `${spec.repo}/checkpoints`,
  );
  let config: ModelConfig | undefined;
  const loadConfig = async () => {
    if (config) return config;
    const raw = spec.config ?? JSON.parse(readFileSync(await hub.download(spec.repo, revision, "config.json", { signal }), "utf8"));
    return (config = parseAnyConfig(raw, `${spec.repo}/config.json`, spec.name));
  };
  return {
    model,
    listing,
    key: async (c) => c.etag ?? (await hub.fileMeta(spec.repo, revision, c.file, signal)).etag,
    config: loadConfig,
    bosSource: async () => {
      const c = await loadConfig();
      const path = await hub.download(spec.tokenizerRepo, "main", "tokenizer.json", { signal });
      return {
        tokenizer: { path, dVocab: c.d_vocab, name: c.tokenizer_name, ...(c.bos_token_id !== undefined ? { bos: c.bos_token_id } : {}) },
      };
    },
    identity: async () => {
      const c = await loadConfig();
      const tokenizer = await hub.download(spec.tokenizerRepo, "main", "tokenizer.json", { signal });
      return createHash("sha256")
        .update(JSON.stringify(c))
        .update(filesIdentity([tokenizer]))
        .digest("hex")
        .slice(0, 16);
    },
    source: async (c, sig) => {
      const meta = await hub.fileMeta(spec.repo, revision, c.file, sig);
      // The bytes are cached under the listing's etag: they must be that file's.
      if (c.etag && meta.etag !== c.etag)
        throw new HeadLensError(`${spec.repo}/${c.file} changed on the hub since it was listed; run the timeline again`, "hub.changed");
      return hubSource(hub, spec.repo, revision, c.file, meta, sig);
    },
    open: (c, opts = {}) =>
      prepareHubModel({ ...spec, name: `${spec.name}@${c.label}`, file: c.file }, hub, deps.storageDir, {
        ...opts,
        revision,
        convert: deps.convert,
      }),
  };
}
