/**
 * Quantized weights inside a safetensors file: Head Lens's own small format, made for the bundled
 * demo's training checkpoints (models/demo-attn-2l/checkpoints/) so that its history fits the .vsix.
 * Written by training/quantize_checkpoints.py; read here, pure TypeScript.
 *
 * A file holds quantized tensors when its `__metadata__` has the key "head_lens.quantized": a JSON
 * object mapping each quantized tensor's TransformerLens name to {"bits": 4 | 8, "group": G}.
 * A quantized tensor of logical shape [..., C] (C a multiple of G; G even for 4 bits) is stored as
 *   <name>         bits 8: dtype I8, shape [..., C], q ∈ [−127, 127];
 *                  bits 4: dtype U8, shape [..., C/2], two values a byte (element 2j in the low
 *                  nibble, 2j+1 in the high one), q = nibble − 8 ∈ [−8, 7];
 *   <name>.scales  dtype F16 or F32, shape [..., C/G]: one scale per G consecutive elements of the last axis;
 * and dequantizes to x = q × scale (symmetric, no zero point), rounded once to float32.
 * Every other tensor of the file is an ordinary F32 / F16 / BF16 tensor.
 */
import { HeadLensError } from "./errors";
import { decodeHalfChecked } from "./halfFloat";
import type { TensorEntry } from "./safetensors";
import { JsonValue, parseStrictJson } from "./strictJson";

export const QUANTIZED_METADATA_KEY = "head_lens.quantized";
export const SCALES_SUFFIX = ".scales";

export interface QuantizedTensor {
  bits: 4 | 8;
  group: number;
  /** The tensor's logical (dequantized) shape. */
  shape: number[];
  values: TensorEntry;
  scales: TensorEntry;
}

function fail(label: string, what: string): never {
  throw new HeadLensError(`${label}: ${what}; re-create the file with training/quantize_checkpoints.py`, "safetensors.quantized");
}

const isPositiveInt = (v: JsonValue | undefined): v is number => typeof v === "number" && Number.isSafeInteger(v) && v > 0;

/**
 * The quantized tensors a file declares, each checked against its stored values and scales
 * (dtype, shape, group): empty for an ordinary safetensors file. Throws on any inconsistency.
 */
export function quantizedTensors(
  metadata: Record<string, string>,
  tensors: Map<string, TensorEntry>,
  label: string,
): Map<string, QuantizedTensor> {
  const out = new Map<string, QuantizedTensor>();
  const text = metadata[QUANTIZED_METADATA_KEY];
  if (text === undefined) return out;
  let spec: JsonValue;
  try {
    spec = parseStrictJson(text);
  } catch (e) {
    fail(label, `metadata "${QUANTIZED_METADATA_KEY}" is not valid JSON (${(e as Error).message})`);
  }
  if (!(spec instanceof Map)) fail(label, `metadata "${QUANTIZED_METADATA_KEY}" must be a JSON object of tensor name → {bits, group}`);
  for (const [name, raw] of spec) out.set(name, checkQuantized(label, name, raw, tensors));
  return out;
}

function checkQuantized(label: string, name: string, raw: JsonValue, tensors: Map<string, TensorEntry>): QuantizedTensor {
  const where = `quantized tensor ${JSON.stringify(name)}`;
  if (!(raw instanceof Map)) fail(label, `${where}: its description must be an object {"bits": 4 | 8, "group": G}`);
  const bits = raw.get("bits"),
    group = raw.get("group");
  if (bits !== 4 && bits !== 8) fail(label, `${where}: bits ${JSON.stringify(bits ?? null)} is not supported (4 or 8)`);
  if (!isPositiveInt(group)) fail(label, `${where}: group ${JSON.stringify(group ?? null)} must be a positive integer`);
  const values = tensors.get(name);
  if (!values) fail(label, `${where} is declared in the metadata but not stored`);
  const wantDtype = bits === 8 ? "I8" : "U8";
  if (values.dtype !== wantDtype) fail(label, `${where}: ${bits}-bit values must be stored as ${wantDtype}, not ${values.dtype}`);
  if (values.shape.length === 0) fail(label, `${where}: a scalar cannot be quantized in groups`);
  const shape = [...values.shape];
  if (bits === 4) shape[shape.length - 1] *= 2;
  const last = shape[shape.length - 1];
  if (last % group !== 0 || (bits === 4 && group % 2 !== 0)) {
    fail(label, `${where}: group ${group} does not divide its last axis of ${last} elements${bits === 4 ? " into whole bytes" : ""}`);
  }
  const scales = tensors.get(name + SCALES_SUFFIX);
  if (!scales) fail(label, `${where}: its scales tensor ${JSON.stringify(name + SCALES_SUFFIX)} is missing`);
  if (scales.dtype !== "F16" && scales.dtype !== "F32") fail(label, `${where}: scales must be F16 or F32, not ${scales.dtype}`);
  const wantScales = [...shape.slice(0, -1), last / group];
  if (scales.shape.length !== wantScales.length || scales.shape.some((d, i) => d !== wantScales[i])) {
    fail(
      label,
      `${where}: scales have shape [${scales.shape.join(", ")}] but [${shape.join(", ")}] in groups of ${group} needs [${wantScales.join(", ")}]`,
    );
  }
  return { bits, group, shape, values, scales };
}

/** Decodes a quantized tensor from the file's data section; refuses NaN / Inf scales (naming the tensor). */
export function dequantize(q: QuantizedTensor, data: Uint8Array, label: string, name: string): Float32Array {
  const scaleBytes = data.subarray(q.scales.begin, q.scales.end);
  let scales: Float32Array;
  if (q.scales.dtype === "F16") scales = decodeHalfChecked(scaleBytes).data;
  else {
    scales = new Float32Array(scaleBytes.byteLength / 4);
    new Uint8Array(scales.buffer).set(scaleBytes); // copy: the source may be unaligned
  }
  const bad = scales.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) fail(label, `quantized tensor ${JSON.stringify(name)}: scale ${bad} is ${scales[bad]}; the weights are corrupt`);
  const bytes = data.subarray(q.values.begin, q.values.end);
  const n = scales.length * q.group;
  const out = new Float32Array(n);
  if (q.bits === 8) {
    const ints = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = ints[i] * scales[Math.floor(i / q.group)];
  } else {
    for (let j = 0; j < bytes.length; j++) {
      const b = bytes[j],
        s = scales[Math.floor((2 * j) / q.group)]; // a group is even-sized: both nibbles share a scale
      out[2 * j] = ((b & 0x0f) - 8) * s;
      out[2 * j + 1] = ((b >> 4) - 8) * s;
    }
  }
  return out;
}
