/**
 * Where a checkpoint's tensors lie, from its data.pkl alone (the training timeline reads the rest
 * with byte ranges): the restricted unpickler, then every tensor's storage entry, dtype and view,
 * checked against the entry sizes the zip directory declares. Runs in the conversion worker.
 */
import { HeadLensError } from "../../core/errors";
import { quoteName } from "../../core/safetensors";
import { PlanJob, PlannedTensor, PlanResult } from "../../protocol/convert";
import { HfTokenizerVocabulary } from "./hfTokenizer";
import { PyDict, unpickle } from "./pickle";
import { describe } from "./pickleValues";
import { checkView, isTensor, MAX_PICKLE_BYTES, STORAGE_DTYPES } from "./pth";

export function planPth(job: PlanJob): PlanResult {
  const { label, prefix } = job;
  const fail = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}`, "pth.invalid");
  };
  if (job.pickle.byteLength > MAX_PICKLE_BYTES) fail(`has a ${job.pickle.byteLength}-byte data.pkl (limit ${MAX_PICKLE_BYTES})`);
  const root = unpickle(job.pickle, label);
  if (!(root instanceof PyDict)) fail(`holds ${describe(root)} at its top level, not a state dict (a dict of tensors)`);
  const tensors: PlannedTensor[] = [];
  for (const [k, v] of (root as PyDict).map) {
    if (typeof k !== "string") fail(`has a state-dict key that is ${describe(k)}, not a tensor name`);
    if (!isTensor(v)) continue;
    const name = k as string;
    const [dtype, elementBytes] = STORAGE_DTYPES[v.storage.type.name];
    const entry = `${prefix}data/${v.storage.key}`;
    const size = Object.hasOwn(job.entrySizes, entry)
      ? job.entrySizes[entry]
      : fail(`tensor ${quoteName(name)} refers to ${entry}, which the archive lacks`);
    if (size / elementBytes < v.storage.numel)
      fail(
        `storage of tensor ${quoteName(name)} holds ${Math.floor(size / elementBytes)} elements but declares ${v.storage.numel} (truncated?)`,
      );
    checkView(v, label, `tensor ${quoteName(name)}`);
    tensors.push({ name, entry, dtype, elementBytes, offset: v.offset, shape: [...v.size], stride: [...v.stride] });
  }
  const t = job.tokenizer;
  const bos = t ? HfTokenizerVocabulary.fromFile(t.path, t.dVocab, t.name, t.bos).bos : undefined;
  return { tensors, ...(bos !== undefined ? { bos } : {}) };
}
