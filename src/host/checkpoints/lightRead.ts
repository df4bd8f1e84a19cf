/**
 * Reads the light tensors of a torch checkpoint through byte ranges and writes them as a light
 * folder (core/lightFolder.ts): the zip directory, data.pkl (unpickled in the conversion worker,
 * never here), then only the entries and rows the light metrics need: the attention weights and
 * ln1's whole, W_E's metric rows, W_pos's first rows. Ranges closer than MERGE_GAP are read in one
 * request. The folder is written whole into a temporary one, then renamed: never half-written.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { ModelConfig } from "../../core/config";
import { HeadLensError } from "../../core/errors";
import { decodeBf16, decodeHalf } from "../../core/halfFloat";
import { lightConfig, lightRowRanges, lightSpec, lightTensorNames } from "../../core/lightCheckpoint";
import { LIGHT_JSON_FILE, LIGHT_TENSORS_FILE, LightFolderInfo } from "../../core/lightFolder";
import { writeSafetensors } from "../../core/safetensors";
import { expectedShapes } from "../../core/weights";
import { ByteSpan, PlannedTensor, PlanJob, PlanResult, ZipEntryInfo } from "../../protocol/convert";
import { ConvertRunOptions, runPlan } from "../convertRunner";
import type { ByteSource } from "./byteSource";
import { join } from "node:path";

/** Reading a gap of up to 64 KiB costs less than another request. */
const MERGE_GAP = 64 * 1024;
/**
 * Bytes read at once at the start (torch.save writes data.pkl first; a state dict's is a few kB)
 * and at the end (the zip's directory, ≈ 100 bytes per tensor): 1/256 of the file within these
 * bounds; when that is not enough the worker asks for the rest.
 */
const EDGE_BYTES = { min: 8 * 1024, max: 256 * 1024 };
const edge = (size: number) => Math.min(size, Math.max(EDGE_BYTES.min, Math.min(EDGE_BYTES.max, Math.ceil(size / 256))));
/** The most any `need` may ask for: a pickle's limit and then some. */
const MAX_NEED = 80 * 1024 * 1024;
/** The largest local extra field torch writes (its 64-byte alignment padding) plus a zip64 field. */
const MAX_LOCAL_EXTRA = 64 + 4 + 20;

export interface LightReadOptions {
  config: ModelConfig;
  bos?: PlanJob["bos"];
  convert?: ConvertRunOptions;
}

export async function readLightPth(source: ByteSource, out: string, opts: LightReadOptions): Promise<void> {
  const label = source.label;
  const fail = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}`, "pth.invalid");
  };
  const plan = await planOf(source, opts);
  const byName = new Map(plan.entries.map((e) => [e.name, e]));
  const config = opts.config;
  const bos =
    config.bos_token_id ??
    plan.bos ??
    fail("its model has no BOS the light read can find (no bos_token_id, tokenizer or vocabulary); add bos_token_id to config.json");
  const spec = lightSpec(config, bos);
  const refs = new Map(plan.tensors.map((t) => [t.name, t]));
  const small = expectedShapes(lightConfig(config, spec));
  const tensors: { name: string; dtype: "F32"; shape: number[]; data: Float32Array }[] = [];
  for (const [name, shape] of lightTensorNames(config)) {
    const t = refs.get(name) ?? fail(`has no tensor "${name}" [${shape.join(", ")}]`);
    checkReadable(t, shape, label);
    const entry = byName.get(t.entry)!;
    if (entry.method !== 0) fail(`entry ${t.entry} is compressed; a light read needs torch.save's stored entries (use --metrics full)`);
    const rowBytes = shape.slice(1).reduce((a, b) => a * b, 1) * t.elementBytes;
    const base = t.offset * t.elementBytes;
    const ranges = (lightRowRanges(name, spec, rowBytes) ?? [[0, shape[0] * rowBytes]]).map(
      ([s, e]) => [base + s, base + e] as [number, number],
    );
    const parts = await readEntryRanges(source, entry, ranges);
    tensors.push({ name, dtype: "F32", shape: small.get(name)!, data: decode(Buffer.concat(parts), t.dtype) });
  }
  const info: LightFolderInfo = { config, bos, spec, source: label };
  const tmp = `${out}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, LIGHT_TENSORS_FILE), writeSafetensors(tensors, { source: label }));
    writeFileSync(join(tmp, LIGHT_JSON_FILE), JSON.stringify(info));
    try {
      renameSync(tmp, out);
    } catch (e) {
      // Another window or process read the same checkpoint first: its folder is as good as ours.
      if (!existsSync(join(out, LIGHT_JSON_FILE))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The worker's plan (directory, tensors, BOS), fetching the bytes it asks for until it has them. */
async function planOf(source: ByteSource, opts: LightReadOptions): Promise<Extract<PlanResult, { entries: unknown }>> {
  const { size, label } = source;
  let tail: ByteSpan = { start: size - edge(size), bytes: await source.read(size - edge(size), size) };
  const spans: ByteSpan[] = [{ start: 0, bytes: await source.read(0, edge(size)) }];
  for (let round = 0; round < 4; round++) {
    const r = await runPlan({ label, size, tail, spans, ...(opts.bos ? { bos: opts.bos } : {}) }, opts.convert);
    if (!("need" in r)) return r;
    const [from, to] = [r.need[0], Math.min(size, r.need[1])];
    if (to - from > MAX_NEED || from < 0 || from >= to)
      throw new HeadLensError(
        `${label}: its directory or data.pkl would need bytes ${from}–${to}; not a checkpoint Head Lens reads in part`,
        "pth.zip",
      );
    const bytes = await source.read(from, to);
    if (to === size) tail = { start: from, bytes };
    else spans.push({ start: from, bytes });
  }
  throw new HeadLensError(`${label}: its directory could not be read in a few ranges; use --metrics full`, "pth.zip");
}

/** A light tensor must have its config's shape, a float dtype and a contiguous row-major view. */
function checkReadable(t: PlannedTensor, shape: number[], label: string): void {
  const where = `${label}: tensor "${t.name}"`;
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new HeadLensError(`${where} is [${t.shape.join(", ")}], its config says [${shape.join(", ")}]`, "weights.shape");
  if (!["F32", "F16", "BF16"].includes(t.dtype)) throw new HeadLensError(`${where} is ${t.dtype}, not a float tensor`, "weights.dtype");
  const contiguous = t.stride.every((s, d) => t.shape[d] <= 1 || s === t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  if (!contiguous)
    throw new HeadLensError(`${where} is a strided view; a light read needs contiguous tensors (use --metrics full)`, "pth.invalid");
}

/** Byte ranges [start, end) of an entry's data, each as a Buffer; nearby ranges read in one request with the local header. */
async function readEntryRanges(source: ByteSource, entry: ZipEntryInfo, ranges: [number, number][]): Promise<Buffer[]> {
  const head = entry.localHeader;
  // The local header, with the first range when it starts near the data (a tensor at offset 0 of its storage).
  const headerEnd = head + 30 + Buffer.byteLength(entry.name) + MAX_LOCAL_EXTRA;
  const first = await source.read(head, Math.min(source.size, headerEnd + (ranges[0][0] <= MERGE_GAP ? ranges[0][1] : 0)));
  // The local header's two lengths say where the data starts (the worker checked the directory).
  if (first.length < 30 || first.readUInt32LE(0) !== 0x04034b50)
    throw new HeadLensError(`${source.label}: entry ${JSON.stringify(entry.name)} has no local header where the directory says`, "pth.zip");
  const start = head + 30 + first.readUInt16LE(26) + first.readUInt16LE(28);
  if (ranges.some(([, e]) => e > entry.size))
    throw new HeadLensError(`${source.label}: entry ${entry.name} is shorter than its tensor`, "pth.zip");
  const out: Buffer[] = [];
  let held = { from: head, bytes: first };
  for (const [s, e] of ranges) {
    const [from, to] = [start + s, start + e];
    if (from < held.from || to > held.from + held.bytes.length) {
      // the next ranges close enough to this one come with it
      let end = to;
      for (const [s2, e2] of ranges) if (start + s2 >= to && start + s2 - end <= MERGE_GAP) end = Math.max(end, start + e2);
      held = { from, bytes: await source.read(from, end) };
    }
    out.push(held.bytes.subarray(from - held.from, to - held.from));
  }
  return out;
}

function decode(bytes: Buffer, dtype: string): Float32Array {
  if (dtype === "F16") return decodeHalf(bytes);
  if (dtype === "BF16") return decodeBf16(bytes);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
