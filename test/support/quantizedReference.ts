/**
 * An independent reader of Head Lens's quantized safetensors (src/core/quantized.ts describes the
 * format): JSON.parse on the header, IEEE half floats decoded by their definition, q × scale in
 * float64 rounded once to float32. Shares no code with src/ so that tests can hold the product to it.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/core/config";
import { ModelWeights } from "../../src/core/weights";

export function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export interface Header {
  [name: string]: { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>;
}

export function splitFile(bytes: Buffer): { header: Header; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Header, data: bytes.subarray(8 + n) };
}

/** Every tensor of a (quantized or plain F16 / F32) file, as float32 values computed independently of src/. */
export function independentTensors(bytes: Buffer): Map<string, { shape: number[]; data: Float32Array }> {
  const { header, data } = splitFile(bytes);
  const spec = JSON.parse((header.__metadata__ as Record<string, string> | undefined)?.["head_lens.quantized"] ?? "{}") as Record<
    string,
    { bits: number; group: number }
  >;
  const entry = (name: string) => header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
  const raw = (name: string) => data.subarray(...entry(name).data_offsets);
  const floats = (name: string): number[] => {
    const b = raw(name);
    const { dtype } = entry(name);
    if (dtype === "F16") return Array.from({ length: b.length / 2 }, (_, i) => half(b.readUInt16LE(2 * i)));
    if (dtype === "F32") return Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(4 * i));
    throw new Error(`independent reader: ${name} is ${dtype}`);
  };
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const name of Object.keys(header)) {
    if (name === "__metadata__" || name.endsWith(".scales")) continue;
    const q = spec[name];
    if (!q) {
      out.set(name, { shape: entry(name).shape, data: Float32Array.from(floats(name)) });
      continue;
    }
    const scales = floats(name + ".scales");
    const b = raw(name);
    const ints =
      q.bits === 8 ? Array.from(b, (v) => (v << 24) >> 24) : Array.from(b).flatMap((v) => [(v % 16) - 8, Math.floor(v / 16) - 8]);
    const shape = [...entry(name).shape];
    if (q.bits === 4) shape[shape.length - 1] *= 2;
    out.set(name, { shape, data: Float32Array.from(ints, (v, i) => v * scales[Math.floor(i / q.group)]) });
  }
  return out;
}

export function independentWeights(file: string, modelDir: string): ModelWeights {
  const config = parseConfig(JSON.parse(readFileSync(join(modelDir, "config.json"), "utf8")), "config.json", "model");
  const t = independentTensors(readFileSync(file));
  const get = (n: string) => t.get(n)!;
  return {
    config,
    W_E: get("embed.W_E"),
    W_pos: get("pos_embed.W_pos"),
    blocks: Array.from({ length: config.n_layers }, (_, l) => {
      const p = (n: string) => get(`blocks.${l}.${n}`);
      return {
        ...{ ln1_w: p("ln1.w"), ln1_b: p("ln1.b"), W_Q: p("attn.W_Q"), W_K: p("attn.W_K"), W_V: p("attn.W_V") },
        ...{ b_Q: p("attn.b_Q"), b_K: p("attn.b_K"), b_V: p("attn.b_V"), W_O: p("attn.W_O"), b_O: p("attn.b_O") },
      };
    }),
    ln_final_w: get("ln_final.w"),
    ln_final_b: get("ln_final.b"),
    W_U: get("unembed.W_U"),
    b_U: get("unembed.b_U"),
  };
}

/** A model folder: modelDir's config (vocabulary, priors) with these bytes as its model.safetensors. */
export function checkpointFolder(bytes: Buffer, modelDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), "head-lens-quantized-"));
  for (const f of ["config.json", "vocab.json", "priors.json"])
    if (existsSync(join(modelDir, f))) copyFileSync(join(modelDir, f), join(dir, f));
  writeFileSync(join(dir, "model.safetensors"), bytes);
  return dir;
}

/** The same file with its JSON header edited (the data section unchanged). */
export function withHeader(bytes: Buffer, edit: (h: Header) => void): Buffer {
  const { header, data } = splitFile(bytes);
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}
