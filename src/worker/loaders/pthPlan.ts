/**
 * Where a checkpoint's tensors lie, from the bytes the host read of it (the training timeline reads
 * the rest with byte ranges): the zip directory from its tail, data.pkl through the restricted
 * unpickler, then every tensor's storage entry, dtype and view, checked against the entries. Runs
 * in the conversion worker; answers `need` when the host must fetch more bytes first.
 */
import { HeadLensError } from "../../core/errors";
import { quoteName } from "../../core/safetensors";
import { PlanJob, PlannedTensor, PlanResult } from "../../protocol/convert";
import { HfTokenizerVocabulary } from "./hfTokenizer";
import { vocabularyFor } from "./vocabulary";
import { PyDict, unpickle } from "./pickle";
import { describe } from "./pickleValues";
import { checkView, isTensor, MAX_PICKLE_BYTES, STORAGE_DTYPES } from "./pth";
import { entryData, NeedBytes, zipDirectory } from "./zipSpans";

export async function planPth(job: PlanJob): Promise<PlanResult> {
  try {
    return await plan(job);
  } catch (e) {
    if (e instanceof NeedBytes) return { need: e.range };
    throw e;
  }
}

async function plan(job: PlanJob): Promise<PlanResult> {
  const { label } = job;
  const fail = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}`, "pth.invalid");
  };
  const spans = [job.tail, ...job.spans];
  const entries = await zipDirectory(label, job.size, spans);
  const pickles = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length !== 1) fail(`holds ${pickles.length} <archive>/data.pkl entries; a torch.save checkpoint has one`);
  const pkl = pickles[0];
  if (pkl.size > MAX_PICKLE_BYTES) fail(`has a ${pkl.size}-byte data.pkl (limit ${MAX_PICKLE_BYTES})`);
  const root = unpickle(entryData(pkl, spans, label), label);
  if (!(root instanceof PyDict)) fail(`holds ${describe(root)} at its top level, not a state dict (a dict of tensors)`);
  const prefix = pkl.name.slice(0, -"data.pkl".length);
  const sizes = new Map(entries.map((e) => [e.name, e.size]));
  const tensors: PlannedTensor[] = [];
  for (const [k, v] of (root as PyDict).map) {
    if (typeof k !== "string") fail(`has a state-dict key that is ${describe(k)}, not a tensor name`);
    if (!isTensor(v)) continue;
    const name = k as string;
    const [dtype, elementBytes] = STORAGE_DTYPES[v.storage.type.name];
    const entry = `${prefix}data/${v.storage.key}`;
    const size = sizes.get(entry) ?? fail(`tensor ${quoteName(name)} refers to ${entry}, which the archive lacks`);
    if (size / elementBytes < v.storage.numel)
      fail(
        `storage of tensor ${quoteName(name)} holds ${Math.floor(size / elementBytes)} elements but declares ${v.storage.numel} (truncated?)`,
      );
    checkView(v, label, `tensor ${quoteName(name)}`);
    tensors.push({ name, entry, dtype, elementBytes, offset: v.offset, shape: [...v.size], stride: [...v.stride] });
  }
  const from = job.bos;
  const bos = !from
    ? undefined
    : "tokenizer" in from
      ? HfTokenizerVocabulary.fromFile(from.tokenizer.path, from.tokenizer.dVocab, from.tokenizer.name, from.tokenizer.bos).bos
      : vocabularyFor(from.config, from.modelDir).bos;
  return { entries, tensors, ...(bos !== undefined ? { bos } : {}) };
}
