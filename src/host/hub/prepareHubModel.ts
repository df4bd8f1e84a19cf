/**
 * Turns a hub model (Neel-format config.json + `*final.pth` + the tokenizer repo's tokenizer.json)
 * into a local model folder Head Lens can analyze: a converted copy (TL-named F32 safetensors,
 * HookedTransformerConfig config.json, tokenizer.json) cached under a key made of the checkpoint's
 * blob hash, so later loads skip the .pth parse. Written to a temp folder and renamed into place.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { writeSafetensors } from "../../core/safetensors";
import { expectedShapes } from "../../core/weights";
import { DownloadOptions, HubClient } from "./hubClient";
import { convertNeelConfig, HubModelSpec } from "./knownModels";
import { HfTokenizerVocabulary } from "../../worker/loaders/hfTokenizer";
import { readPthFile } from "../../worker/loaders/pth";

export interface PrepareOptions extends DownloadOptions {
  revision?: string;
  /** Called with a short description of each step (for status lines). */
  onStep?: (step: string) => void;
}

export async function prepareHubModel(spec: HubModelSpec, hub: HubClient, storageDir: string, opts: PrepareOptions = {}): Promise<string> {
  const revision = opts.revision ?? "main";
  opts.onStep?.(`listing ${spec.repo}@${revision}`);
  const files = await hub.listFiles(spec.repo, revision, opts.signal);
  const pthName = files.find((f) => f.endsWith("final.pth")); // TransformerLens takes the first such file
  if (!pthName) throw new HeadLensError(`${spec.repo}@${revision}: no file ending in final.pth (files: ${files.slice(0, 8).join(", ")})`, "hub.layout");
  if (!files.includes("config.json")) throw new HeadLensError(`${spec.repo}@${revision}: no config.json`, "hub.layout");
  opts.onStep?.(`downloading ${spec.repo}/config.json`);
  const configPath = await hub.download(spec.repo, revision, "config.json", opts);
  opts.onStep?.(`downloading ${spec.repo}/${pthName}`);
  const pthPath = await hub.download(spec.repo, revision, pthName, opts);
  opts.onStep?.(`downloading ${spec.tokenizerRepo}/tokenizer.json`);
  const tokenizerPath = await hub.download(spec.tokenizerRepo, "main", "tokenizer.json", opts);

  const key = basename(realpathSync(pthPath)).slice(0, 24);
  const out = join(storageDir, "converted", `${spec.name}-${key}`);
  if (["config.json", "model.safetensors", "tokenizer.json"].every((f) => existsSync(join(out, f)))) return out;

  opts.onStep?.(`converting ${pthName}`);
  await convertCheckpoint(configPath, pthPath, tokenizerPath, out, spec.name, { hub_repo: spec.repo, hub_file: pthName });
  return out;
}

/** A TransformerLens .pth (or a hub download) + its config.json (TL or Neel names) -> a local model folder. */
export async function convertCheckpoint(configPath: string, pthPath: string, tokenizerPath: string | undefined, out: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const raw = JSON.parse(readFileSync(configPath, "utf8"));
  // Neel's configs say "normalization" / "shortformer_pos" / "act_fn"; HookedTransformerConfig's don't.
  const neel = typeof raw === "object" && raw !== null && ("normalization" in raw || "shortformer_pos" in raw || "act_fn" in raw);
  const config = neel ? convertNeelConfig(raw, configPath, name) : parseConfig(raw, configPath, name);
  const bos = tokenizerPath ? HfTokenizerVocabulary.fromFile(tokenizerPath, config.d_vocab, config.tokenizer_name).bos : config.bos_token_id;
  const sd = await readPthFile(pthPath);
  const tensors = [...expectedShapes(config)].map(([tname, shape]) => {
    const t = sd.tensors.get(tname);
    if (!t) throw new HeadLensError(`${pthPath}: tensor "${tname}" is missing from the state dict`, "weights.missing");
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new HeadLensError(`${pthPath}: tensor "${tname}" has shape [${t.shape.join(", ")}] but config.json implies [${shape.join(", ")}]`, "weights.shape");
    }
    return { name: tname, dtype: "F32" as const, shape, data: t.data };
  });
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "model.safetensors"), writeSafetensors(tensors, { source: pthPath }));
  writeFileSync(join(tmp, "config.json"), JSON.stringify({ ...config, ...(bos !== undefined ? { bos_token_id: bos } : {}), ...extra }, null, 2));
  if (tokenizerPath) copyFileSync(tokenizerPath, join(tmp, "tokenizer.json"));
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out); // atomic: a half-written conversion is never used
}

/** A .pth on disk (config.json, and tokenizer.json if any, beside it) -> a cached converted folder. */
export async function prepareLocalPth(pthPath: string, storageDir: string): Promise<string> {
  const dir = dirname(pthPath);
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath)) throw new HeadLensError(`${pthPath}: a .pth needs its config.json in the same folder`, "model.missing");
  const tokenizer = join(dir, "tokenizer.json");
  const tokenizerName = (JSON.parse(readFileSync(configPath, "utf8")) as { tokenizer_name?: unknown }).tokenizer_name;
  if (tokenizerName !== undefined && tokenizerName !== "gpt2" && !existsSync(tokenizer)) {
    throw new HeadLensError(`${pthPath}: its config names tokenizer "${String(tokenizerName)}"; put that tokenizer's tokenizer.json beside the .pth`, "tokenizer.missing");
  }
  const st = statSync(pthPath);
  const key = createHash("sha256").update(`${realpathSync(pthPath)}|${st.size}|${st.mtimeMs}|${readFileSync(configPath, "utf8")}`).digest("hex").slice(0, 24);
  const out = join(storageDir, "converted", `${basename(pthPath, ".pth")}-${key}`);
  if (existsSync(join(out, "model.safetensors"))) return out;
  await convertCheckpoint(configPath, pthPath, existsSync(tokenizer) ? tokenizer : undefined, out, basename(pthPath, ".pth"));
  return out;
}
