/**
 * fast-check arbitraries of malformed and hostile .pth checkpoints, each with the error it must
 * produce: forbidden globals (GLOBAL / STACK_GLOBAL + REDUCE), INST / OBJ / NEWOBJ / EXT / PERSID,
 * BUILD on foreign objects, misused allowed calls, memo and DUP bombs, deep nesting, lying lengths,
 * truncation, lying tensor views, zip damage and zip bombs, wrong dtypes, NaN / Inf, missing
 * tensors, and configs that do not fit the weights.
 */
import fc from "fast-check";
import { CONFIG_LIMITS } from "../../src/core/config";
import { SENTINEL } from "./fuzz";
import { TINY_CONFIG, ViewOverride, memoBomb, tinyCheckpoint, tinyStateDict } from "./hostileInputs";
import { PickleWriter } from "./pickleWriter";
import { ZipEntry, writePth, writeZip } from "./zipWriter";

export interface PthCase {
  kind: string;
  pth: Buffer;
  /** config.json to write beside it (TINY_CONFIG when absent); a string is written as is. */
  config?: Record<string, unknown> | string;
  /** Which of the user's files the error must name. */
  names: "pth" | "config";
  code?: string | RegExp;
  message: RegExp;
}

const REQUIRED = [
  "embed.W_E",
  "pos_embed.W_pos",
  "unembed.W_U",
  "unembed.b_U",
  "ln_final.w",
  "blocks.0.attn.W_Q",
  "blocks.0.attn.b_O",
  "blocks.0.ln1.b",
];
const DANGEROUS: [string, string][] = [
  ["os", "system"],
  ["posix", "system"],
  ["nt", "system"],
  ["builtins", "eval"],
  ["builtins", "exec"],
  ["__builtin__", "eval"],
  ["subprocess", "Popen"],
  ["subprocess", "check_output"],
  ["builtins", "getattr"],
  ["builtins", "__import__"],
  ["torch", "load"],
  ["torch._utils", "_rebuild_from_type_v2"],
  ["numpy.core.multiarray", "_reconstruct"],
  ["webbrowser", "open"],
  ["shutil", "rmtree"],
];

const pkl = () => new PickleWriter();
const onlyPickle = (w: PickleWriter) => writePth(w.bytes());

/** The call `fn('touch SENTINEL')`, written with GLOBAL or STACK_GLOBAL, nested `depth` tuples deep. */
const forbiddenGlobal = fc
  .record({ target: fc.constantFrom(...DANGEROUS), stack: fc.boolean(), depth: fc.nat({ max: 30 }), inDict: fc.boolean() })
  .map(({ target: [module, name], stack, depth, inDict }): PthCase => {
    const w = pkl();
    if (inDict) w.emptyDict().str("embed.W_E");
    for (let i = 0; i < depth; i++) w.mark();
    if (stack) w.str(module).str(name).op(0x93);
    else w.global(module, name);
    w.str(`touch ${SENTINEL}`).op(0x85).reduce();
    for (let i = 0; i < depth; i++) w.tuple();
    if (inDict) w.setItem();
    return {
      kind: "global",
      pth: onlyPickle(w.stop()),
      names: "pth",
      code: "pth.pickle",
      message: /refuses global [\w.]+\.\w+: only tensors/,
    };
  });

const instantiation = fc
  .tuple(fc.constantFrom("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4", "PERSID"), fc.constantFrom(...DANGEROUS))
  .map(([op, [module, name]]): PthCase => {
    const w = pkl();
    const cls = () => w.global("collections", "OrderedDict");
    if (op === "INST")
      w.mark()
        .str(`touch ${SENTINEL}`)
        .raw(Buffer.from(`i${module}\n${name}\n`, "latin1"));
    if (op === "OBJ") {
      w.mark();
      cls();
      w.str(`touch ${SENTINEL}`).op(0x6f);
    }
    if (op === "NEWOBJ") {
      cls();
      w.emptyTuple().op(0x81);
    }
    if (op === "NEWOBJ_EX") {
      cls();
      w.emptyTuple().emptyDict().op(0x92);
    }
    if (op.startsWith("EXT")) w.raw(Buffer.from({ EXT1: [0x82, 1], EXT2: [0x83, 1, 0], EXT4: [0x84, 1, 0, 0, 0] }[op as "EXT1"]));
    if (op === "PERSID") w.raw(Buffer.from(`P${module}.${name}\n`, "latin1"));
    return {
      kind: "instantiation",
      pth: onlyPickle(w.stop()),
      names: "pth",
      code: "pth.pickle",
      message: /refuses (INST|OBJ|NEWOBJ|NEWOBJ_EX|extension|text persistent)/,
    };
  });

const buildOnForeign = fc.constantFrom("global", "list", "none", "int", "dictWithListState").map((target): PthCase => {
  const w = pkl();
  if (target === "global") w.global("torch._utils", "_rebuild_tensor_v2");
  if (target === "list") w.emptyList();
  if (target === "none") w.none();
  if (target === "int") w.int(7);
  if (target === "dictWithListState") w.emptyDict().emptyList().build();
  else w.emptyDict().str("__setstate__").none().setItem().build();
  return { kind: "build", pth: onlyPickle(w.stop()), names: "pth", code: "pth.pickle", message: /refuses BUILD on/ };
});

const misusedCall = fc
  .tuple(
    fc.constantFrom("storageCall", "tensorArgs", "odictArgs", "paramOfList", "noTuple"),
    fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 6 }),
  )
  .map(([how, junk]): PthCase => {
    const w = pkl();
    const junkTuple = () => {
      w.mark();
      for (const j of junk) {
        if (j < 0) w.none();
        else w.int(j);
      }
      return w.tuple();
    };
    if (how === "storageCall") w.global("torch", "FloatStorage").mark().int(4).tuple().reduce();
    if (how === "tensorArgs") {
      w.global("torch._utils", "_rebuild_tensor_v2");
      junkTuple();
      w.reduce();
    }
    if (how === "odictArgs") {
      w.global("collections", "OrderedDict").mark();
      junkTuple();
      w.tuple().reduce();
    }
    if (how === "paramOfList") w.global("torch._utils", "_rebuild_parameter").mark().emptyList().newFalse().tuple().reduce();
    if (how === "noTuple") w.global("collections", "OrderedDict").int(3).reduce();
    return {
      kind: "misused-call",
      pth: onlyPickle(w.stop()),
      names: "pth",
      code: "pth.pickle",
      message: /refuses to call|malformed _rebuild_tensor_v2|OrderedDict\(\.\.\.\)|not a tensor|without an argument tuple/,
    };
  });

/** width^depth ≥ 10^7 leaves: far over any budget a ≤ 1 MB pickle gets. */
const bomb = fc
  .record({
    width: fc.integer({ min: 2, max: 20 }),
    extra: fc.nat({ max: 3 }),
    dup: fc.boolean(),
    use: fc.constantFrom("root", "key", "persid"),
  })
  .map(({ width, extra, dup, use }): PthCase => {
    const depth = Math.ceil(7 / Math.log10(width)) + extra;
    const w = pkl();
    if (use === "key") w.emptyDict();
    if (dup) {
      w.emptyList().put(1000).pop();
      for (let level = 1; level <= depth; level++) {
        w.mark().get(1000 + level - 1);
        for (let i = 1; i < width; i++) w.dup();
        w.list()
          .put(1000 + level)
          .pop();
      }
    } else memoBomb(w, depth, width);
    w.get(1000 + depth);
    if (use === "key") w.none().setItem();
    if (use === "persid") w.binPersId();
    return { kind: "bomb", pth: onlyPickle(w.stop()), names: "pth", code: "pth.pickle", message: /memo bomb/ };
  });

const deepNest = fc
  .record({ depth: fc.integer({ min: 101, max: 100_000 }), style: fc.constantFrom("lists", "marks", "tuples", "dicts") })
  .map(({ depth, style }): PthCase => {
    const w = pkl();
    if (style === "lists") {
      for (let i = 0; i < depth; i++) w.emptyList();
      for (let i = 1; i < depth; i++) w.append();
    }
    if (style === "marks") for (let i = 0; i < depth; i++) w.mark();
    if (style === "tuples") {
      w.emptyTuple();
      for (let i = 0; i < depth; i++) w.op(0x85);
    }
    if (style === "dicts") {
      w.emptyDict();
      for (let i = 0; i < depth; i++) w.str("k").emptyDict();
      for (let i = 0; i < depth; i++) w.setItem();
    }
    return { kind: "deep", pth: onlyPickle(w.stop()), names: "pth", code: "pth.pickle", message: /nesting deeper than 100/ };
  });

const lyingLength = fc
  .record({
    op: fc.constantFrom("BINUNICODE", "BINBYTES", "BINSTRING", "NEGATIVE", "SHORT", "BINUNICODE8", "LONG1"),
    big: fc.nat(),
    tail: fc.nat({ max: 20 }),
  })
  .map(({ op, big, tail }): PthCase => {
    const u32 = (code: number, n: number) => {
      const b = Buffer.alloc(5);
      b[0] = code;
      b.writeUInt32LE(n >>> 0, 1);
      return b;
    };
    const claim = 1000 + (big % 2 ** 31);
    const head = {
      BINUNICODE: u32(0x58, claim),
      BINBYTES: u32(0x42, claim),
      BINSTRING: u32(0x54, claim % 2 ** 31),
      NEGATIVE: (() => {
        const b = u32(0x54, 0);
        b.writeInt32LE(-1 - (big % 2 ** 30), 1);
        return b;
      })(),
      SHORT: Buffer.from([0x8c, 255]),
      LONG1: Buffer.from([0x8a, 255]),
      BINUNICODE8: (() => {
        const b = Buffer.alloc(9);
        b[0] = 0x8d;
        b.writeBigUInt64LE(BigInt(claim) * 2n ** 30n, 1);
        return b;
      })(),
    }[op as "BINUNICODE"];
    const w = pkl().raw(head).raw(Buffer.alloc(tail, 0x41));
    return { kind: "length", pth: onlyPickle(w), names: "pth", code: "pth.pickle", message: /ends early|negative or invalid length/ };
  });

const truncatedPickle = fc.nat().map((at): PthCase => {
  const { pickle, storages } = tinyStateDict();
  return {
    kind: "truncated-pickle",
    pth: writePth(pickle.subarray(0, at % pickle.length), storages),
    names: "pth",
    code: /^pth\./,
    message: /./,
  };
});

const lyingView = fc
  .record({
    tensor: fc.constantFrom(...REQUIRED),
    how: fc.constantFrom("broadcast", "offset", "stride", "numel", "key", "dims"),
    k: fc.integer({ min: 1, max: 40 }),
  })
  .map(({ tensor, how, k }): PthCase => {
    const lie: ViewOverride = {
      broadcast: { size: [2 ** Math.min(k + 10, 50)], stride: [0] },
      offset: { offset: 1000 * k },
      stride: { stride: [1000 * k, 1].slice(0, 1), size: [2] },
      numel: { numel: 10_000 * k },
      key: { key: `missing${k}` },
      dims: { size: new Array(65).fill(1), stride: new Array(65).fill(1) },
    }[how as "offset"];
    return {
      kind: "view",
      pth: tinyCheckpoint({ view: (n) => (n === tensor ? lie : undefined) }),
      names: "pth",
      code: "pth.",
      message: /claims more elements|reaches element|declares|lacks|malformed _rebuild_tensor_v2/,
    };
  });

const zipDamage = fc
  .record({
    how: fc.constantFrom("truncate", "bomb", "duplicate", "twoPickles", "noPickle", "method", "encrypted", "notZip", "legacy"),
    r: fc.nat(),
  })
  .map(({ how, r }): PthCase => {
    const { pickle, storages } = tinyStateDict();
    const entries: ZipEntry[] = [
      { name: "archive/data.pkl", data: pickle },
      ...Object.entries(storages).map(([k, v]) => ({ name: `archive/data/${k}`, data: v })),
    ];
    const full = writeZip(entries);
    const pth = {
      truncate: () => full.subarray(0, r % full.length),
      bomb: () =>
        writeZip([
          ...entries,
          { name: "archive/data/bomb", data: Buffer.alloc(1 << 20), deflate: true, declaredSize: 64 * full.length + (r % 1000) },
        ]),
      duplicate: () => writeZip([...entries, entries[1 + (r % (entries.length - 1))]]),
      twoPickles: () => writeZip([...entries, { name: "other/data.pkl", data: pickle }]),
      noPickle: () => writeZip(entries.slice(1)),
      method: () => writeZip([{ ...entries[0], method: [1, 6, 12, 14, 93, 99][r % 6] }, ...entries.slice(1)]),
      encrypted: () => writeZip([{ ...entries[0], flags: 1 }, ...entries.slice(1)]),
      notZip: () => Buffer.from(Array.from({ length: 64 }, (_, i) => (r + i * 7) % 256)).fill(0x50, 0, 1),
      legacy: () => Buffer.concat([Buffer.from([0x80, 0x02]), pickle.subarray(2)]),
    }[how as "truncate"]();
    return {
      kind: `zip-${how}`,
      pth,
      names: "pth",
      code: /^pth\./,
      message: /zip|data\.pkl|legacy|two entries|compression|encrypted|bomb|truncated/,
    };
  });

const badWeights = fc
  .record({ tensor: fc.constantFrom(...REQUIRED), how: fc.constantFrom("dtype", "nan", "missing", "transposed"), r: fc.nat() })
  .map(({ tensor, how, r }): PthCase => {
    const type = ["DoubleStorage", "LongStorage", "IntStorage", "BoolStorage", "ByteStorage"][r % 5];
    const bad = [NaN, Infinity, -Infinity][r % 3];
    const pth = {
      dtype: () => tinyCheckpoint({ storageType: (n) => (n === tensor ? type : "FloatStorage") }),
      nan: () => tinyCheckpoint({ mutate: (n, v) => n === tensor && (v[r % v.length] = bad) }),
      missing: () => tinyCheckpoint({ view: (n) => (n === tensor ? { skip: true } : undefined) }),
      transposed: () => tinyCheckpoint({ view: (n) => (n === "embed.W_E" ? { size: [4, 8], stride: [8, 1] } : undefined) }),
    }[how as "nan"]();
    const message = {
      dtype: /unsupported dtype (F64|I64|I32|BOOL|U8) for tensor/,
      nan: /NaN\/Inf value/,
      missing: /is missing from the state dict/,
      transposed: /has shape \[4, 8\] but config\.json implies \[8, 4\]/,
    }[how as "nan"];
    return { kind: `weights-${how}`, pth, names: "pth", code: "weights.", message };
  });

const badConfig = fc
  .record({ how: fc.constantFrom("tooManyLayers", "overLimit", "notJson", "huge", "noTokenizer"), r: fc.nat() })
  .map(({ how, r }): PthCase => {
    const base = { ...TINY_CONFIG } as Record<string, unknown>;
    const config = {
      tooManyLayers: { ...base, n_layers: 50 + (r % (CONFIG_LIMITS.n_layers - 50)) },
      overLimit: { ...base, d_vocab: CONFIG_LIMITS.d_vocab + 1 + r },
      notJson: "{ n_layers: 2, ",
      huge: JSON.stringify({ ...base, padding: "x".repeat(1024 * 1024) }),
      noTokenizer: { ...base, tokenizer_name: "NeelNanda/gpt-neox-tokenizer-digits" },
    }[how as "notJson"];
    const message = {
      tooManyLayers: /imply .* weights .* holds/,
      overLimit: /"d_vocab" \d+ exceeds/,
      notJson: /not valid JSON/,
      huge: /larger than any model config/,
      noTokenizer: /tokenizer\.json beside the \.pth/,
    }[how as "notJson"];
    return { kind: `config-${how}`, pth: tinyCheckpoint(), config, names: how === "noTokenizer" ? "pth" : "config", message };
  });

const notAStateDict = fc.constantFrom("list", "int", "none", "string", "intKey", "tupleKey").map((how): PthCase => {
  const w = pkl();
  if (how === "list") w.emptyList();
  if (how === "int") w.int(3);
  if (how === "none") w.none();
  if (how === "string") w.str("state_dict");
  if (how === "intKey") w.emptyDict().int(1).none().setItem();
  if (how === "tupleKey") w.emptyDict().str("a").str("b").tuple2().none().setItem();
  return { kind: "not-a-state-dict", pth: onlyPickle(w.stop()), names: "pth", code: "pth.", message: /not a state dict|not a tensor name/ };
});

const opcodeSoup = fc.uint8Array({ minLength: 1, maxLength: 400 }).map((bytes): PthCase => ({
  kind: "soup",
  pth: onlyPickle(pkl().raw(bytes).stop()),
  names: "pth",
  message: /./,
}));

export const hostilePth: fc.Arbitrary<PthCase> = fc.oneof(
  forbiddenGlobal,
  instantiation,
  buildOnForeign,
  misusedCall,
  bomb,
  deepNest,
  lyingLength,
  truncatedPickle,
  lyingView,
  zipDamage,
  badWeights,
  badConfig,
  notAStateDict,
  opcodeSoup,
);

/** The worst cases only (bombs, deep nesting, lying lengths), for runs through the real worker. */
export const worstPth: fc.Arbitrary<PthCase> = fc.oneof(bomb, deepNest, lyingLength);
