/**
 * Turns a hub model (Neel-format config.json + `*final.pth` + the tokenizer repo's tokenizer.json)
 * into a local model folder Head Lens can analyze: a converted copy (TL-named F32 safetensors,
 * HookedTransformerConfig config.json, tokenizer.json) cached under a key made of the checkpoint's
 * blob hash, so later loads skip the .pth parse. Written to a temp folder and renamed into place.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { basename, join } from "node:path";
import { HeadLensError } from "../core/errors";
import { writeSafetensors } from "../core/safetensors";
import { expectedShapes } from "../core/weights";
import { DownloadOptions, HubClient } from "./hfHub";
import { convertNeelConfig, HubModelSpec } from "./hubModels";
import { HfTokenizerVocabulary } from "./hfTokenizer";
import { readPthFile } from "./pth";

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
  const raw = JSON.parse(readFileSync(configPath, "utf8"));
  const config = convertNeelConfig(raw, configPath, spec.name);
  const vocab = HfTokenizerVocabulary.fromFile(tokenizerPath, config.d_vocab, config.tokenizer_name);
  const sd = await readPthFile(pthPath);
  const tensors = [...expectedShapes(config)].map(([name, shape]) => {
    const t = sd.tensors.get(name);
    if (!t) throw new HeadLensError(`${pthPath}: tensor "${name}" is missing from the state dict`, "weights.missing");
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new HeadLensError(`${pthPath}: tensor "${name}" has shape [${t.shape.join(", ")}] but config.json implies [${shape.join(", ")}]`, "weights.shape");
    }
    return { name, dtype: "F32" as const, shape, data: t.data };
  });
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "model.safetensors"), writeSafetensors(tensors, { source: `${spec.repo}/${pthName}` }));
  writeFileSync(join(tmp, "config.json"), JSON.stringify({ ...config, bos_token_id: vocab.bos, hub_repo: spec.repo, hub_file: pthName }, null, 2));
  copyFileSync(tokenizerPath, join(tmp, "tokenizer.json"));
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  return out;
}
