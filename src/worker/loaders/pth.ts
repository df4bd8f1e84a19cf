/**
 * PyTorch checkpoint reader (the zip format of torch ≥ 1.6): `<archive>/data.pkl` unpickled by the
 * restricted unpickler, tensors rebuilt from `<archive>/data/<key>` storages (strides and offsets
 * honoured), float32 / float16 / bfloat16 decoded to float32. Never executes code.
 *
 * Bounded by the file: every tensor view is checked against its storage when the archive is
 * opened (no broadcast view may hold more elements than its storage), tensors are decoded only when
 * asked for, and all decoded views together may hold at most twice the stored elements.
 */
import { readFile } from "node:fs/promises";
import { ErrorCode, HeadLensError } from "../../core/errors";
import { decodeBf16, decodeHalf, halfToFloat, bf16ToFloat } from "../../core/halfFloat";
import { quoteName, unsupportedDtype } from "../../core/safetensors";
import { Tensor } from "../../core/tensor";
import { PyDict, TensorRef, unpickle } from "./pickle";
import { describe } from "./pickleValues";
import { readZipEntries } from "./zipArchive";

/** Storage class -> safetensors-style dtype name and element size. */
export const STORAGE_DTYPES: Record<string, [dtype: string, bytes: number]> = {
  FloatStorage: ["F32", 4],
  HalfStorage: ["F16", 2],
  BFloat16Storage: ["BF16", 2],
  DoubleStorage: ["F64", 8],
  LongStorage: ["I64", 8],
  IntStorage: ["I32", 4],
  ShortStorage: ["I16", 2],
  CharStorage: ["I8", 1],
  ByteStorage: ["U8", 1],
  BoolStorage: ["BOOL", 1],
};
const FLOAT_DTYPES = new Set(["F32", "F16", "BF16"]);
/** A state dict's pickle holds ≈ 100 bytes per tensor: 64 MiB is over half a million tensors. */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

function fail(label: string, what: string, code: ErrorCode = "pth.invalid"): never {
  throw new HeadLensError(`${label}: ${what}`, code);
}

export interface PthStateDict {
  /** Float tensors by name, decoded to float32 (contiguous). */
  tensors: Map<string, Tensor>;
  /** Names of non-tensor and non-float entries (e.g. TransformerLens's attention mask buffers). */
  skipped: string[];
}

/** An opened checkpoint: every tensor's view validated against its storage, nothing decoded yet. */
export class PthCheckpoint {
  private decoded = 0;
  private readonly decodeBudget: number;

  constructor(
    readonly label: string,
    private readonly refs: Map<string, TensorRef>,
    private readonly storages: Map<string, Uint8Array>,
    /** Names of entries that are not tensors. */
    readonly nonTensors: string[],
    /** Bytes of tensor data the checkpoint stores (each distinct storage once). */
    readonly storageBytes: number,
    storedElements: number,
  ) {
    // Views may share a storage (tied weights); twice the stored elements admits that, no more.
    this.decodeBudget = 2 * storedElements;
  }

  get names(): string[] {
    return [...this.refs.keys()];
  }

  /** "F32", "F16", "BF16", "F64", "I64", ... or undefined when there is no such tensor. */
  dtypeOf(name: string): string | undefined {
    const ref = this.refs.get(name);
    return ref && STORAGE_DTYPES[ref.storage.type.name][0];
  }

  shapeOf(name: string): number[] | undefined {
    return this.refs.get(name)?.size;
  }

  /** Decodes one float tensor to contiguous float32. */
  read(name: string): Tensor {
    const t = this.refs.get(name) ?? fail(this.label, `has no tensor ${quoteName(name)}`, "weights.missing");
    const [dtype, el] = STORAGE_DTYPES[t.storage.type.name];
    if (!FLOAT_DTYPES.has(dtype)) fail(this.label, unsupportedDtype(dtype, name), "weights.dtype");
    const numel = t.size.reduce((a, b) => a * b, 1);
    this.decoded += numel;
    if (this.decoded > this.decodeBudget) {
      fail(this.label, `its tensors, views of shared storages, add up to more than twice the ${this.decodeBudget / 2} elements stored`);
    }
    const storage = this.storages.get(t.storage.key)!.subarray(0, t.storage.numel * el);
    return { shape: [...t.size], data: decodeView(t, storage, dtype, numel) };
  }
}

export async function readPthFile(path: string): Promise<PthStateDict> {
  return parsePth(await readFile(path), path);
}

/** Every float tensor decoded (for tests and small files; conversion reads only what it needs). */
export async function parsePth(bytes: Buffer, label: string): Promise<PthStateDict> {
  const ckpt = await openPth(bytes, label);
  const tensors = new Map<string, Tensor>();
  const skipped = [...ckpt.nonTensors];
  for (const name of ckpt.names) {
    if (FLOAT_DTYPES.has(ckpt.dtypeOf(name)!)) tensors.set(name, ckpt.read(name));
    else skipped.push(name);
  }
  return { tensors, skipped };
}

export async function openPth(bytes: Buffer, label: string): Promise<PthCheckpoint> {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail(
      label,
      "is in PyTorch's legacy (pre-1.6, non-zip) format, which Head Lens does not read; re-save it with torch ≥ 1.6: torch.save(torch.load(f), f2)",
      "pth.legacy",
    );
  }
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50)
    fail(label, "is not a PyTorch zip checkpoint (no zip signature)", "pth.zip");
  const entries = await readZipEntries(bytes, label);
  const pickles = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length === 0) fail(label, "has no <archive>/data.pkl entry: not a torch.save checkpoint");
  if (pickles.length > 1)
    fail(label, `holds ${pickles.length} data.pkl entries (${pickles.slice(0, 3).join(", ")}); a torch.save checkpoint has one`);
  const prefix = pickles[0].slice(0, -"data.pkl".length);
  const byteorder = entries.get(prefix + "byteorder");
  if (byteorder && new TextDecoder().decode(byteorder.subarray(0, 16)).trim() !== "little") {
    fail(label, "stores big-endian tensors; only little-endian checkpoints are supported");
  }
  const pkl = entries.get(pickles[0])!;
  if (pkl.length > MAX_PICKLE_BYTES)
    fail(label, `has a ${pkl.length}-byte data.pkl; a state dict's is far smaller (limit ${MAX_PICKLE_BYTES})`);
  const root = unpickle(pkl, label);
  if (!(root instanceof PyDict)) fail(label, `holds ${describe(root)} at its top level, not a state dict (a dict of tensors)`);
  return indexTensors(root as PyDict, entries, prefix, label);
}

function indexTensors(dict: PyDict, entries: Map<string, Uint8Array>, prefix: string, label: string): PthCheckpoint {
  const refs = new Map<string, TensorRef>();
  const nonTensors: string[] = [];
  const storages = new Map<string, Uint8Array>();
  const storageTypes = new Map<string, string>();
  let storageBytes = 0,
    storedElements = 0;
  for (const [k, v] of dict.map) {
    if (typeof k !== "string") fail(label, `has a state-dict key that is ${describe(k)}, not a tensor name`);
    const name = k as string;
    if (!isTensor(v)) {
      nonTensors.push(name);
      continue;
    }
    const { key, numel, type } = v.storage;
    const [dtype, el] = STORAGE_DTYPES[type.name];
    const where = `tensor ${quoteName(name)}`;
    const previousType = storageTypes.get(key);
    if (previousType === undefined) {
      const bytes = entries.get(`${prefix}data/${key}`) ?? fail(label, `${where} refers to storage data/${key}, which the archive lacks`);
      if (bytes.length / el < numel)
        fail(label, `storage of ${where} holds ${Math.floor(bytes.length / el)} elements but declares ${numel} (truncated?)`);
      storages.set(key, bytes);
      storageTypes.set(key, type.name);
      storageBytes += numel * el;
      if (FLOAT_DTYPES.has(dtype)) storedElements += numel;
    } else if (previousType !== type.name) {
      fail(label, `storage data/${key} is declared as both ${previousType} and ${type.name}`);
    }
    checkView(v, label, where);
    refs.set(name, v);
  }
  return new PthCheckpoint(label, refs, storages, nonTensors, storageBytes, storedElements);
}

export function isTensor(v: unknown): v is TensorRef {
  return typeof v === "object" && v !== null && (v as TensorRef).kind === "tensor";
}

/** The view must lie inside its storage and hold no more elements than the storage does. */
export function checkView(t: TensorRef, label: string, where: string): void {
  const available = t.storage.numel;
  if (t.size.includes(0)) return; // an empty view reads nothing
  let numel = 1;
  for (const d of t.size) {
    numel *= d;
    if (numel > available) {
      fail(
        label,
        `${where} [${t.size.join(", ")}] claims more elements than its ${available}-element storage holds (a broadcast view? save a contiguous copy)`,
      );
    }
  }
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) last += (t.size[d] - 1) * t.stride[d];
  if (last >= available) fail(label, `${where} [${t.size.join(", ")}] reaches element ${last} of a ${available}-element storage`);
}

function decodeView(t: TensorRef, storage: Uint8Array, dtype: string, numel: number): Float32Array {
  const contiguous = t.stride.every((s, d) => t.size[d] <= 1 || s === t.size.slice(d + 1).reduce((a, b) => a * b, 1));
  if (contiguous) {
    const el = dtype === "F32" ? 4 : 2;
    const bytes = storage.subarray(t.offset * el, (t.offset + numel) * el);
    if (dtype === "F16") return decodeHalf(bytes);
    if (dtype === "BF16") return decodeBf16(bytes);
    const out = new Float32Array(numel);
    new Uint8Array(out.buffer).set(bytes); // copy: the source may be unaligned
    return out;
  }
  // Strided view: walk the index space in row-major order, decoding element by element.
  const view = new DataView(storage.buffer, storage.byteOffset, storage.byteLength);
  const at =
    dtype === "F32"
      ? (i: number) => view.getFloat32(4 * i, true)
      : dtype === "F16"
        ? (i: number) => halfToFloat(view.getUint16(2 * i, true))
        : (i: number) => bf16ToFloat(view.getUint16(2 * i, true));
  const out = new Float32Array(numel);
  const idx = new Array<number>(t.size.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let src = t.offset;
    for (let d = 0; d < idx.length; d++) src += idx[d] * t.stride[d];
    out[i] = at(src);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
