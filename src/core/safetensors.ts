/**
 * safetensors reader and writer: an 8-byte little-endian header length, a JSON header, raw
 * little-endian tensor data. The reader validates strictly; each failure names the file and tensor.
 */
import { HeadLensError } from "./errors";
import { decodeBf16Checked, decodeHalfChecked, floatToBf16, floatToHalf } from "./halfFloat";
import { dequantize, quantizedTensors } from "./quantized";
import { JsonObject, JsonValue, NonInteger, StrictJsonError, parseStrictJson } from "./strictJson";

export type FloatDType = "F32" | "F16" | "BF16";
/** Bits per element of every dtype the safetensors library knows (its Dtype::bitsize). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};
/** The safetensors library's MAX_HEADER_SIZE. */
const MAX_HEADER_BYTES = 100_000_000;

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

/** A name for an error message: quoted, escaped onto one line, and not absurdly long. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

/**
 * Parses and validates a safetensors file by the rules of the safetensors library (tensor.rs
 * read_metadata + Metadata::validate): header length ≤ 100 000 000 and inside the file; header is
 * UTF-8 JSON (no BOM, JSON whitespace padding allowed) holding an object; `__metadata__` absent, null
 * or an object of strings; every other key a tensor {dtype, shape, data_offsets}; tensors contiguous
 * from byte 0, each exactly shape × dtype bytes, together covering the data section exactly. Also
 * refuses duplicate keys, which JSON.parse would silently collapse.
 */
export function parseSafetensors(bytes: Uint8Array, label: string): SafetensorsFile {
  const header = parseSafetensorsHeader(bytes, bytes.byteLength, label);
  return { label, tensors: header.tensors, metadata: header.metadata, data: bytes.subarray(header.dataOffset) };
}

/** The 8-byte length prefix of a safetensors file: the header's byte length (validated against the file size). */
export function safetensorsHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8 || prefix.byteLength < 8)
    fail(label, `file is ${fileSize} bytes, too short for a safetensors header; is it a safetensors file?`, "short");
  const headerLen = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    fail(label, `header length ${headerLen} exceeds the safetensors limit of ${MAX_HEADER_BYTES} bytes`, "header-bounds");
  if (headerLen > BigInt(fileSize - 8)) {
    fail(
      label,
      `header length ${headerLen} runs past the end of the ${fileSize}-byte file (truncated or not safetensors)`,
      "header-bounds",
    );
  }
  return Number(headerLen);
}

/**
 * The header alone, validated against the file's size: `start` holds at least the 8-byte prefix
 * and the header (the data section need not be read — a cheap check of a whole model file).
 */
export function parseSafetensorsHeader(
  start: Uint8Array,
  fileSize: number,
  label: string,
): { tensors: Map<string, TensorEntry>; metadata: Record<string, string>; dataOffset: number } {
  const n = safetensorsHeaderLength(start, fileSize, label);
  if (start.byteLength < 8 + n) throw new Error(`parseSafetensorsHeader: ${start.byteLength} bytes given, the header needs ${8 + n}`);
  const headerBytes = start.subarray(8, 8 + n);
  if (headerBytes[0] === 0xef && headerBytes[1] === 0xbb && headerBytes[2] === 0xbf) {
    fail(
      label,
      "header starts with a UTF-8 byte-order mark; the safetensors format requires the JSON header without one (re-save the file)",
      "bom",
    );
  }
  const header = parseHeaderJson(label, headerBytes);
  const dataLength = fileSize - 8 - n;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of header) {
    if (name === "__metadata__") metadata = validateMetadata(label, raw);
    else tensors.set(name, validateEntry(label, name, raw, dataLength));
  }
  checkContiguousCover(label, tensors, dataLength);
  return { tensors, metadata, dataOffset: 8 + n };
}

function parseHeaderJson(label: string, headerBytes: Uint8Array): JsonObject {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(label, "header is not valid UTF-8 JSON (invalid UTF-8)", "header-json");
  }
  let header: JsonValue;
  try {
    header = parseStrictJson(text!);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    if (e.kind === "duplicate" && e.path.length === 0)
      fail(label, `tensor ${quoteName(e.key!)} appears twice in the header; each tensor name must be unique`, "duplicate");
    if (e.kind === "duplicate")
      fail(label, `tensor ${quoteName(e.path[0])}: field ${quoteName(e.key!)} appears twice in the header`, "duplicate");
    fail(label, `header is not valid UTF-8 JSON (${e.message})`, "header-json");
  }
  if (!(header! instanceof Map)) fail(label, "header JSON is not an object", "header-json");
  return header as JsonObject;
}

function validateMetadata(label: string, raw: JsonValue): Record<string, string> {
  if (raw === null) return {}; // the library reads __metadata__ as an optional map
  const kind = Array.isArray(raw) ? "a list" : raw instanceof Map ? "an object with a non-string value" : typeof raw;
  if (!(raw instanceof Map) || [...raw.values()].some((v) => typeof v !== "string")) {
    fail(label, `"__metadata__" must be an object mapping strings to strings (got ${kind})`, "metadata");
  }
  return Object.fromEntries(raw as Map<string, string>);
}

const isSize = (x: JsonValue) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
const show = (x: JsonValue | undefined): string =>
  x === undefined
    ? "nothing"
    : (JSON.stringify(x, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v instanceof NonInteger ? v.value : v))?.slice(0, 80) ??
      "?");

function validateEntry(label: string, name: string, raw: JsonValue, dataLen: number): TensorEntry {
  const where = `tensor ${quoteName(name)}`;
  if (!(raw instanceof Map)) return fail(label, `${where}: entry is not an object with dtype, shape and data_offsets`, "entry");
  const dtype = raw.get("dtype"),
    shape = raw.get("shape"),
    offsets = raw.get("data_offsets");
  if (typeof dtype !== "string" || !(dtype in DTYPE_BITS)) fail(label, `${where}: unknown dtype ${show(dtype)}`, "dtype");
  if (!Array.isArray(shape) || !shape.every(isSize))
    fail(label, `${where}: shape ${show(shape)} is not a list of non-negative integers`, "shape");
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    fail(label, `${where}: data_offsets ${show(offsets)} must be two non-negative integers`, "offsets");
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(label, `${where}: data_offsets [${begin}, ${end}] are reversed`, "offsets");
  if (end > dataLen)
    fail(label, `${where}: data_offsets [${begin}, ${end}] run past the ${dataLen}-byte data section (file truncated?)`, "bounds");
  const dims = shape as number[];
  let elements = 1;
  for (const d of dims) {
    elements *= d;
    if (!Number.isSafeInteger(elements * 64)) fail(label, `${where}: shape [${dims.join(", ")}] overflows when multiplied out`, "overflow");
  }
  const bits = elements * DTYPE_BITS[dtype as string];
  if (bits % 8 !== 0) fail(label, `${where}: ${elements} × ${dtype} does not end on a byte boundary`, "misaligned");
  if (end - begin !== bits / 8) {
    fail(label, `${where}: ${end - begin} bytes stored but shape [${dims.join(", ")}] × ${dtype} needs ${bits / 8}`, "length");
  }
  return { dtype: dtype as string, shape: dims, begin, end };
}

/** Tensors sorted by offsets must tile the data section: from byte 0, no gap, no overlap, no tail. */
function checkContiguousCover(label: string, tensors: Map<string, TensorEntry>, dataLen: number): void {
  const sorted = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let covered = 0;
  let prevName = "";
  for (const [name, t] of sorted) {
    if (t.begin < covered)
      fail(
        label,
        `tensor ${quoteName(name)} bytes [${t.begin}, ${t.end}) overlap tensor ${quoteName(prevName)} (ends at ${covered}); tensors must not overlap`,
        "overlap",
      );
    if (t.begin > covered) {
      fail(
        label,
        `tensor ${quoteName(name)} starts at byte ${t.begin} but the tensors before it end at ${covered}; the format requires tensors contiguous from byte 0`,
        "gap",
      );
    }
    covered = t.end;
    prevName = name;
  }
  if (covered !== dataLen) {
    fail(
      label,
      `the tensors cover ${covered} of the ${dataLen} data bytes; the format requires the data section to be covered exactly (extra bytes at the end)`,
      "coverage",
    );
  }
}

/**
 * Decode a float tensor to float32 (a quantized one, quantized.ts, dequantized); `finite` true when the
 * decoder saw no Inf / NaN (F16, BF16), else unchecked.
 */
export function readFloatTensor(file: SafetensorsFile, name: string): { shape: number[]; data: Float32Array; finite?: boolean } {
  const entry = file.tensors.get(name);
  if (!entry) fail(file.label, `required tensor ${quoteName(name)} is missing`, "missing");
  const quantized = quantizedTensors(file.metadata, file.tensors, file.label).get(name);
  if (quantized) return { shape: quantized.shape, data: dequantize(quantized, file.data, file.label, name) };
  const bytes = file.data.subarray(entry.begin, entry.end);
  let data: Float32Array, finite: boolean | undefined;
  switch (entry.dtype) {
    case "F32": {
      data = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(data.buffer).set(bytes); // copy: the source may be unaligned
      break;
    }
    case "F16":
      ({ data, finite } = decodeHalfChecked(bytes));
      break;
    case "BF16":
      ({ data, finite } = decodeBf16Checked(bytes));
      break;
    default:
      fail(file.label, unsupportedDtype(entry.dtype, name), "dtype");
  }
  return { shape: entry.shape, data, finite };
}

/** The message for a weight stored in a dtype Head Lens does not decode (shared with the .pth reader). */
export function unsupportedDtype(dtype: string, name: string): string {
  return `unsupported dtype ${dtype} for tensor ${quoteName(name)}; weights must be F32, F16 or BF16 (re-save as float32, float16 or bfloat16)`;
}

export interface TensorToWrite {
  name: string;
  dtype: FloatDType;
  shape: number[];
  data: Float32Array;
}

export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Buffer {
  return Buffer.concat([safetensorsHeader(tensors, metadata), ...tensors.map((t) => encodeFloats(t.data, t.dtype))]);
}

/** The 8-byte length and JSON header for tensors written in this order (data follows, unpadded). */
export function safetensorsHeader(
  tensors: { name: string; dtype: FloatDType; shape: number[] }[],
  metadata?: Record<string, string>,
): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (DTYPE_BITS[t.dtype] / 8);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // keep the data section 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json, "utf8")]);
}

/** A float tensor's bytes as stored in a safetensors file of the given dtype. */
export function encodeFloats(data: Float32Array, dtype: FloatDType): Buffer {
  if (dtype === "F32") return Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = Buffer.alloc(data.length * 2);
  const conv = dtype === "F16" ? floatToHalf : floatToBf16;
  for (let i = 0; i < data.length; i++) out.writeUInt16LE(conv(data[i]), 2 * i);
  return out;
}
