/**
 * Hand-built checkpoints for the hostile inputs (memo bombs, huge configs, huge length
 * claims, deep nesting, ...) and a small valid TransformerLens checkpoint to damage. Shared by the
 * fuzz tests and bench/hostileInputs.ts (which measures them end to end through the CLI).
 */
import { ModelConfig } from "../../src/core/config";
import { floatToBf16, floatToHalf } from "../../src/core/halfFloat";
import { expectedShapes } from "../../src/core/weights";
import { PickleWriter } from "./pickleWriter";
import { writePth, writeZip } from "./zipWriter";

export const TINY_CONFIG: ModelConfig = {
  model_name: "tiny",
  n_layers: 1,
  d_model: 4,
  n_heads: 2,
  d_head: 2,
  d_vocab: 8,
  n_ctx: 4,
  positional_embedding_type: "standard",
  normalization_type: "LN",
  attn_only: true,
  tokenizer_name: "gpt2",
  bos_token_id: 0,
};

/** What a tensor's rebuild call says, where a test wants it to lie. */
export interface ViewOverride {
  size?: number[];
  stride?: number[];
  offset?: number;
  /** numel in the storage's persistent id. */
  numel?: number;
  /** Storage key (data/<key>); a key with no entry is a missing storage. */
  key?: string;
  /** Leave the tensor out of the state dict. */
  skip?: boolean;
}

export interface CheckpointOptions {
  config?: ModelConfig;
  /** Storage type per tensor name (default FloatStorage). */
  storageType?: (name: string) => string;
  /** Called on each tensor's float32 values before they are written. */
  mutate?: (name: string, values: Float32Array) => void;
  view?: (name: string) => ViewOverride | undefined;
}

const ELEMENT_BYTES: Record<string, number> = {
  FloatStorage: 4,
  DoubleStorage: 8,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  BoolStorage: 1,
  ByteStorage: 1,
};

/** A valid TL state dict as torch.save writes it: OrderedDict of tensors, one storage each. */
export function tinyStateDict(opts: CheckpointOptions = {}): { pickle: Buffer; storages: Record<string, Uint8Array> } {
  const config = opts.config ?? TINY_CONFIG;
  const w = new PickleWriter().global("collections", "OrderedDict").emptyTuple().reduce().put(0).mark();
  const storages: Record<string, Uint8Array> = {};
  let key = 0;
  for (const [name, shape] of expectedShapes(config)) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: numel }, (_, i) => Math.sin(key * 31 + i) / 2);
    opts.mutate?.(name, values);
    const type = opts.storageType?.(name) ?? "FloatStorage";
    storages[String(key)] = encode(values, type);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const k = String(key++);
    const v = opts.view?.(name) ?? {};
    if (v.skip) continue;
    w.str(name).rebuildTensor((p) => p.storage(type, v.key ?? k, v.numel ?? numel), v.offset ?? 0, v.size ?? shape, v.stride ?? stride);
  }
  w.setItems().stop();
  return { pickle: w.bytes(), storages };
}

export function tinyCheckpoint(opts: CheckpointOptions = {}): Buffer {
  const { pickle, storages } = tinyStateDict(opts);
  return writePth(pickle, storages);
}

function encode(values: Float32Array, type: string): Uint8Array {
  const out = Buffer.alloc(values.length * (ELEMENT_BYTES[type] ?? 4));
  values.forEach((v, i) => {
    if (type === "DoubleStorage") out.writeDoubleLE(v, 8 * i);
    else if (type === "LongStorage") out.writeBigInt64LE(BigInt(Math.round(v)), 8 * i);
    else if (type === "IntStorage") out.writeInt32LE(Math.round(v), 4 * i);
    else if (type === "HalfStorage") out.writeUInt16LE(floatToHalf(v), 2 * i);
    else if (type === "BFloat16Storage") out.writeUInt16LE(floatToBf16(v), 2 * i);
    else if (type === "BoolStorage" || type === "ByteStorage") out[i] = v > 0 ? 1 : 0;
    else out.writeFloatLE(v, 4 * i);
  });
  return out;
}

/** Nested lists, each level holding `width` memo references to the level below: width^depth leaves. */
export function memoBomb(w: PickleWriter, depth: number, width: number, firstMemo = 1000): PickleWriter {
  w.emptyList().put(firstMemo).pop();
  for (let level = 1; level <= depth; level++) {
    w.mark();
    for (let i = 0; i < width; i++) w.get(firstMemo + level - 1);
    w.list()
      .put(firstMemo + level)
      .pop();
  }
  return w;
}

/** A list nested `depth` deep, built without recursion: depth EMPTY_LISTs, then depth-1 APPENDs. */
export function deepList(w: PickleWriter, depth: number): PickleWriter {
  for (let i = 0; i < depth; i++) w.emptyList();
  for (let i = 1; i < depth; i++) w.append();
  return w;
}

export interface HostileCase {
  name: string;
  what: string;
  config: ModelConfig | Record<string, unknown>;
  pth: Buffer;
}

/** The inputs, each ≤ 1 MB. */
export function hostileCases(): HostileCase[] {
  const t = (name: string, what: string, pth: Buffer, config: HostileCase["config"] = TINY_CONFIG): HostileCase => ({
    name,
    what,
    config,
    pth,
  });
  // A state dict whose tensor's persistent id is a 10^9-leaf memo bomb (error messages print it).
  const persidBomb = memoBomb(new PickleWriter().emptyDict(), 9, 10)
    .str("embed.W_E")
    .global("torch._utils", "_rebuild_tensor_v2")
    .mark()
    .get(1009)
    .binPersId()
    .int(0)
    .mark()
    .int(1)
    .tuple()
    .mark()
    .int(1)
    .tuple()
    .tuple()
    .reduce()
    .setItem()
    .stop()
    .bytes();
  // The same bomb as a dict key (turned into a string for the tensor's name).
  const keyBomb = memoBomb(new PickleWriter().emptyDict(), 9, 10).get(1009).none().setItem().stop().bytes();
  const deep = deepList(new PickleWriter().emptyDict(), 100_000).none().setItem().stop().bytes();
  // BINSTRING with a negative length: a naive reader jumps back and loops forever.
  const negative = new PickleWriter()
    .raw(Buffer.from([0x54, 0xfb, 0xff, 0xff, 0xff]))
    .stop()
    .bytes();
  // A 1-element storage viewed as 2^28 elements through stride 0.
  const broadcast = new PickleWriter()
    .emptyDict()
    .str("embed.W_E")
    .rebuildTensor((p) => p.storage("FloatStorage", "0", 1), 0, [1 << 28], [0])
    .setItem()
    .stop()
    .bytes();
  const zipBomb = writeZip([
    { name: "archive/data.pkl", data: new PickleWriter().emptyDict().stop().bytes() },
    { name: "archive/data/0", data: Buffer.alloc(512 * 1024 * 1024), deflate: true },
  ]);
  return [
    t("memo-bomb-persid", "10^9-leaf memo bomb as a storage persistent id", writePth(persidBomb, { "0": Buffer.alloc(4) })),
    t("memo-bomb-key", "10^9-leaf memo bomb as a state-dict key", writePth(keyBomb)),
    t("huge-n-layers", "config n_layers = 50 000 000 beside a valid 1-layer checkpoint", tinyCheckpoint(), {
      ...TINY_CONFIG,
      n_layers: 50_000_000,
    }),
    t("huge-length-claim", "a 1-element storage viewed as [2^28] with stride 0", writePth(broadcast, { "0": Buffer.alloc(4) })),
    t("deep-nesting", "a list nested 100 000 deep as a state-dict key", writePth(deep)),
    t("negative-length", "BINSTRING with length -5 (jumps back onto itself)", writePth(negative)),
    t("zip-bomb", "a 512 MiB deflated storage entry in a ~0.5 MB archive", zipBomb),
    t("nan-weight", "a NaN in embed.W_E", tinyCheckpoint({ mutate: (n, v) => n === "embed.W_E" && (v[3] = NaN) })),
    t(
      "float64-weight",
      "embed.W_E saved as float64 (DoubleStorage)",
      tinyCheckpoint({ storageType: (n) => (n === "embed.W_E" ? "DoubleStorage" : "FloatStorage") }),
    ),
  ];
}
