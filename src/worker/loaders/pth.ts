/**
 * PyTorch checkpoint reader (the zip format of torch ≥ 1.6): `<archive>/data.pkl` unpickled by the
 * restricted unpickler, tensors rebuilt from `<archive>/data/<key>` storages (strides and offsets
 * honoured), float32 / float16 / bfloat16 decoded to float32. Never executes code.
 */
import { readFile } from "node:fs/promises";
import yauzl from "yauzl";
import { ErrorCode, HeadLensError } from "../../core/errors";
import { decodeBf16, decodeHalf } from "../../core/halfFloat";
import { Tensor } from "../../core/tensor";
import { PyDict, TensorRef, unpickle } from "./pickle";

const ELEMENT_BYTES: Record<string, number> = {
  FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8, LongStorage: 8, IntStorage: 4,
  ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

export interface PthStateDict {
  /** Float tensors by name, decoded to float32 (contiguous). */
  tensors: Map<string, Tensor>;
  /** Names of non-float entries (e.g. TransformerLens's attention mask buffers), not decoded. */
  skipped: string[];
}

function fail(label: string, what: string, code: ErrorCode = "pth.invalid"): never {
  throw new HeadLensError(`${label}: ${what}`, code);
}

function readZip(bytes: Buffer, label: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(new HeadLensError(`${label}: not a readable zip archive (${err?.message ?? "unknown error"}); the file may be truncated`, "pth.zip"));
      const out = new Map<string, Buffer>();
      zip.on("error", (e: Error) => reject(new HeadLensError(`${label}: corrupt zip archive (${e.message})`, "pth.zip")));
      zip.on("end", () => resolve(out));
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new HeadLensError(`${label}: cannot read ${entry.fileName} (${e?.message})`, "pth.zip"));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("error", (se: Error) => reject(new HeadLensError(`${label}: cannot read ${entry.fileName} (${se.message})`, "pth.zip")));
          stream.on("end", () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

export async function readPthFile(path: string): Promise<PthStateDict> {
  return parsePth(await readFile(path), path);
}

export async function parsePth(bytes: Buffer, label: string): Promise<PthStateDict> {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    fail(label, "is in PyTorch's legacy (pre-1.6, non-zip) format, which Head Lens does not read; re-save it with torch ≥ 1.6: torch.save(torch.load(f), f2)", "pth.legacy");
  }
  if (bytes.length < 4 || bytes.readUInt32LE(0) !== 0x04034b50) fail(label, "is not a PyTorch zip checkpoint (no zip signature)", "pth.zip");
  const entries = await readZip(bytes, label);
  const pklName = [...entries.keys()].find((n) => n.endsWith("/data.pkl") && n.split("/").length === 2);
  if (!pklName) fail(label, "has no <archive>/data.pkl entry: not a torch.save checkpoint");
  const prefix = pklName.slice(0, -"data.pkl".length);
  const byteorder = entries.get(prefix + "byteorder")?.toString("utf8").trim();
  if (byteorder && byteorder !== "little") fail(label, `stores ${byteorder}-endian tensors; only little-endian checkpoints are supported`);
  const root = unpickle(entries.get(pklName)!, label);
  const dict = root instanceof PyDict ? root : fail(label, "does not hold a state dict (a dict of tensors) at its top level");
  const tensors = new Map<string, Tensor>();
  const skipped: string[] = [];
  for (const [k, v] of dict.map) {
    const name = String(k);
    if (!isTensor(v)) {
      skipped.push(name);
      continue;
    }
    const type = v.storage.type.name;
    if (type !== "FloatStorage" && type !== "HalfStorage" && type !== "BFloat16Storage") {
      skipped.push(name);
      continue;
    }
    const storage = entries.get(`${prefix}data/${v.storage.key}`);
    if (!storage) fail(label, `tensor "${name}" refers to storage data/${v.storage.key}, which the archive lacks`);
    tensors.set(name, materialize(v, storage, type, label, name));
  }
  return { tensors, skipped };
}

function isTensor(v: unknown): v is TensorRef {
  return typeof v === "object" && v !== null && (v as TensorRef).kind === "tensor";
}

function materialize(t: TensorRef, storage: Buffer, type: string, label: string, name: string): Tensor {
  const el = ELEMENT_BYTES[type];
  const available = Math.floor(storage.length / el);
  if (available < t.storage.numel) fail(label, `storage of tensor "${name}" holds ${available} elements but declares ${t.storage.numel} (truncated?)`);
  const numel = t.size.reduce((a, b) => a * b, 1);
  let last = t.offset;
  for (let d = 0; d < t.size.length; d++) if (t.size[d] > 0) last += (t.size[d] - 1) * t.stride[d];
  if (numel > 0 && (t.offset < 0 || last >= available)) fail(label, `tensor "${name}" [${t.size.join(", ")}] reaches element ${last} of a ${available}-element storage`);
  const all = decodeStorage(storage.subarray(0, available * el), type);
  const out = new Float32Array(numel);
  const contiguous = t.stride.every((s, d) => s === t.size.slice(d + 1).reduce((a, b) => a * b, 1));
  if (contiguous) out.set(all.subarray(t.offset, t.offset + numel));
  else {
    // Strided view: walk the index space in row-major order.
    const idx = new Array(t.size.length).fill(0);
    for (let i = 0; i < numel; i++) {
      let src = t.offset;
      for (let d = 0; d < idx.length; d++) src += idx[d] * t.stride[d];
      out[i] = all[src];
      for (let d = idx.length - 1; d >= 0; d--) {
        if (++idx[d] < t.size[d]) break;
        idx[d] = 0;
      }
    }
  }
  return { shape: [...t.size], data: out };
}

function decodeStorage(bytes: Buffer, type: string): Float32Array {
  if (type === "HalfStorage") return decodeHalf(bytes);
  if (type === "BFloat16Storage") return decodeBf16(bytes);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
