/**
 * safetensors reader and writer: an 8-byte little-endian header length, a JSON header, raw
 * little-endian tensor data. The reader validates strictly; each failure names the file and tensor.
 */
import { HeadLensError } from "./errors";
import { decodeBf16, decodeHalf, floatToBf16, floatToHalf } from "./halfFloat";

export type FloatDType = "F32" | "F16" | "BF16";
const DTYPE_SIZES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorEntry {
  dtype: string;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  label: string;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** The data section (after the header). */
  data: Uint8Array;
}

function fail(label: string, what: string, code: string): never {
  throw new HeadLensError(`${label}: ${what}`, `safetensors.${code}`);
}

export function parseSafetensors(bytes: Uint8Array, label: string): SafetensorsFile {
  if (bytes.byteLength < 8) fail(label, `file is ${bytes.byteLength} bytes, too short for a safetensors header; is it a safetensors file?`, "short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.byteLength - 8)) {
    fail(label, `header length ${headerLen} runs past the end of the ${bytes.byteLength}-byte file (truncated or not safetensors)`, "header-bounds");
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(label, `header length ${headerLen} exceeds the 100 MB limit`, "header-bounds");
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(label, `header is not valid UTF-8 JSON (${(e as Error).message})`, "header-json");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail(label, "header JSON is not an object", "header-json");
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Object.values(raw).some((v) => typeof v !== "string")) {
        fail(label, "__metadata__ must be an object of strings", "metadata");
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    tensors.set(name, validateEntry(label, name, raw, data.byteLength));
  }
  const sorted = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1];
    const [name, cur] = sorted[i];
    if (cur.begin < prev.end) fail(label, `tensor "${name}" bytes [${cur.begin}, ${cur.end}) overlap tensor "${prevName}" [${prev.begin}, ${prev.end})`, "overlap");
  }
  return { label, tensors, metadata, data };
}

function validateEntry(label: string, name: string, raw: unknown, dataLen: number): TensorEntry {
  const where = `tensor "${name}"`;
  if (typeof raw !== "object" || raw === null) fail(label, `${where}: entry is not an object`, "entry");
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in DTYPE_SIZES)) fail(label, `${where}: unknown dtype ${JSON.stringify(dtype)}`, "dtype");
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(label, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`, "shape");
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(label, `${where}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`, "offsets");
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(label, `${where}: data_offsets [${begin}, ${end}] are reversed`, "offsets");
  if (end > dataLen) fail(label, `${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section (file truncated?)`, "bounds");
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_SIZES[dtype];
  if (end - begin !== expected) {
    fail(label, `${where}: ${end - begin} bytes stored but shape [${(shape as number[]).join(", ")}] × ${dtype} needs ${expected}`, "length");
  }
  return { dtype, shape: shape as number[], begin, end };
}

/** Decode a float tensor to float32. */
export function readFloatTensor(file: SafetensorsFile, name: string): { shape: number[]; data: Float32Array } {
  const entry = file.tensors.get(name);
  if (!entry) fail(file.label, `required tensor "${name}" is missing`, "missing");
  const bytes = file.data.subarray(entry.begin, entry.end);
  let data: Float32Array;
  switch (entry.dtype) {
    case "F32": {
      data = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(data.buffer).set(bytes); // copy: the source may be unaligned
      break;
    }
    case "F16": data = decodeHalf(bytes); break;
    case "BF16": data = decodeBf16(bytes); break;
    default: fail(file.label, `tensor "${name}" has dtype ${entry.dtype}; weights must be F32, F16 or BF16`, "dtype");
  }
  return { shape: entry.shape, data };
}

export interface TensorToWrite {
  name: string;
  dtype: FloatDType;
  shape: number[];
  data: Float32Array;
}

export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const buf = encodeFloats(t.data, t.dtype);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + buf.byteLength] };
    chunks.push(buf);
    offset += buf.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // keep the data section 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, "utf8"), ...chunks]);
}

function encodeFloats(data: Float32Array, dtype: FloatDType): Buffer {
  if (dtype === "F32") return Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = Buffer.alloc(data.length * 2);
  const conv = dtype === "F16" ? floatToHalf : floatToBf16;
  for (let i = 0; i < data.length; i++) out.writeUInt16LE(conv(data[i]), 2 * i);
  return out;
}
