/**
 * Property-based fuzzing of the safetensors reader: valid files are generated, then broken by one
 * mutation that the format's rules forbid (truncation, header damage, offsets, dtypes, shapes, BOM,
 * duplicate names, bad __metadata__, ...). Each must be refused with a one-line error that names the
 * file and the rule (its code), quickly and without memory growth. FUZZ_SEED reproduces a run.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isHeadLensError } from "../src/core/errors";
import { parseSafetensors } from "../src/core/safetensors";
import { MemoryWatch, assertCleanError, check, expectFailure } from "./support/fuzz";

const LABEL = "/fuzz/models/m/model.safetensors";
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, U8: 1, F64: 8 };

interface TensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

/** A file under construction: raw header pairs (duplicates and odd values allowed) and data. */
interface Draft {
  pairs: [string, string][];
  data: Buffer;
  headerPrefix: Buffer;
  headerLength?: bigint;
  truncateAt?: number;
  rawHeader?: Buffer;
}

const bytesOf = (t: TensorSpec) => t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];

function draft(tensors: TensorSpec[]): Draft {
  let offset = 0;
  const pairs: [string, string][] = tensors.map((t) => {
    const entry = JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytesOf(t)] });
    offset += bytesOf(t);
    return [t.name, entry];
  });
  return { pairs, data: Buffer.alloc(offset, 0xab), headerPrefix: Buffer.alloc(0) };
}

function encode(d: Draft): Buffer {
  let json = `{${d.pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const header = d.rawHeader ?? Buffer.concat([d.headerPrefix, Buffer.from(json, "utf8")]);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(d.headerLength ?? BigInt(header.length));
  const file = Buffer.concat([head, header, d.data]);
  return d.truncateAt === undefined ? file : file.subarray(0, d.truncateAt);
}

const tensorSpecs = fc
  .uniqueArray(
    fc.record({
      name: fc.oneof(fc.constantFrom("embed.W_E", "blocks.0.attn.W_Q", "unembed.b_U"), fc.string({ minLength: 1, maxLength: 12 })),
      dtype: fc.constantFrom("F32", "F16", "BF16", "I32", "U8", "F64"),
      shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 4, selector: (t) => t.name },
  )
  .filter((ts) => ts.every((t) => t.name !== "__metadata__"));

type Mutation = (d: Draft, ts: TensorSpec[], r: number) => string;

/** Each mutation breaks one rule and returns the error code that names it. */
const MUTATIONS: Record<string, Mutation> = {
  truncate: (d, _ts, r) => ((d.truncateAt = r % encode(d).length), "safetensors."),
  headerLength: (d, _ts, r) => {
    const n = BigInt(encode(d).length - 8 - d.data.length);
    d.headerLength = r % 3 === 0 ? n + BigInt(1 + (r % 7)) : r % 3 === 1 ? (n > 1n ? n - 1n : n + 1n) : BigInt(r) * 2n ** 33n;
    return "safetensors.";
  },
  bom: (d) => ((d.headerPrefix = Buffer.from([0xef, 0xbb, 0xbf])), "safetensors.bom"),
  duplicateName: (d, _ts, r) => (d.pairs.push(d.pairs[r % d.pairs.length]), "safetensors.duplicate"),
  duplicateField: (d, _ts, r) => {
    const i = r % d.pairs.length;
    d.pairs[i][1] = d.pairs[i][1].replace("{", `{"dtype":"F32",`);
    return "safetensors.duplicate";
  },
  metadata: (d, _ts, r) => {
    const bad = ['["a","b"]', "3", '"text"', '{"a":1}', '{"a":{"b":"c"}}', "true", '{"a":null}'];
    d.pairs.unshift(["__metadata__", bad[r % bad.length]]);
    return "safetensors.metadata";
  },
  dtype: (d, _ts, r) => setField(d, r, "dtype", ['"F33"', '"f32"', '""', '"float32"', "4", "null", '["F32"]'][r % 7], "safetensors.dtype"),
  shape: (d, _ts, r) => setField(d, r, "shape", ["[-1]", "[1.5]", '["2"]', "[null]", "3", '"[]"', "{}"][r % 7], "safetensors.shape"),
  offsets: (d, _ts, r) =>
    setField(
      d,
      r,
      "data_offsets",
      ["[0]", "[0,1,2]", "[-4,0]", "[0,4.0]", '["0","4"]', "null", "[1e3,2e3]", "[8,4]"][r % 8],
      "safetensors.offsets",
    ),
  missingField: (d, _ts, r) => {
    const i = r % d.pairs.length,
      field = ["dtype", "shape", "data_offsets"][r % 3];
    const entry = JSON.parse(d.pairs[i][1]);
    delete entry[field];
    d.pairs[i][1] = JSON.stringify(entry);
    return `safetensors.${field === "data_offsets" ? "offsets" : field}`;
  },
  entryNotObject: (d, _ts, r) => ((d.pairs[r % d.pairs.length][1] = ["1", "[]", '"x"', "null"][r % 4]), "safetensors.entry"),
  length: (d, ts, r) => {
    const i = r % ts.length;
    const entry = JSON.parse(d.pairs[i][1]);
    entry.shape = bytesOf(ts[i]) === 0 ? [1] : [...ts[i].shape, 2];
    d.pairs[i][1] = JSON.stringify(entry);
    return "safetensors.length";
  },
  overflow: (d, _ts, r) => setField(d, r, "shape", "[1073741824,1073741824,1073741824]", "safetensors.overflow"),
  gap: (d, _ts, r) => {
    const k = 1 + (r % 16);
    d.pairs = d.pairs.map(([name, v]) => {
      const e = JSON.parse(v);
      e.data_offsets = e.data_offsets.map((o: number) => o + k);
      return [name, JSON.stringify(e)];
    });
    d.data = Buffer.concat([Buffer.alloc(k, 0xab), d.data]);
    return "safetensors.gap";
  },
  overlap: (d, ts, r) => {
    const i = ts.findIndex((t) => bytesOf(t) > 0);
    if (i < 0) return MUTATIONS.coverage(d, ts, r);
    d.pairs.push([`${ts[i].name}#copy`, d.pairs[i][1]]);
    return "safetensors.overlap";
  },
  coverage: (d, _ts, r) => ((d.data = Buffer.concat([d.data, Buffer.alloc(1 + (r % 9))])), "safetensors.coverage"),
  bounds: (d, _ts, r) => {
    const i = r % d.pairs.length;
    const e = JSON.parse(d.pairs[i][1]);
    e.data_offsets[1] = d.data.length + 1 + (r % 100);
    d.pairs[i][1] = JSON.stringify(e);
    return "safetensors.bounds";
  },
  notObject: (d, _ts, r) => ((d.rawHeader = Buffer.from(["[]", "1", '"x"', "null", "[{}]"][r % 5])), "safetensors.header-json"),
  garbage: (d, _ts, r) => {
    const g = Buffer.from(Array.from({ length: 1 + (r % 40) }, (_, i) => (r * (i + 7) * 2654435761) % 256));
    g[0] = 0x41 + (r % 26); // a letter: never the start of a JSON object
    d.rawHeader = g;
    return "safetensors.header-json";
  },
  deepJson: (d, _ts, r) => {
    const depth = 129 + (r % 5000);
    d.pairs.unshift(["__metadata__", "[".repeat(depth) + "]".repeat(depth)]);
    return "safetensors.header-json";
  },
  loneSurrogate: (d) => (d.pairs.push(["x", "1"]), (d.pairs[d.pairs.length - 1][0] = "\ud800"), "safetensors.header-json"),
};

function setField(d: Draft, r: number, field: string, value: string, code: string): string {
  const i = r % d.pairs.length;
  const e = JSON.parse(d.pairs[i][1]);
  e[field] = "__SET__";
  d.pairs[i][1] = JSON.stringify(e).replace('"__SET__"', value);
  return code;
}

const malformed = fc.record({
  tensors: tensorSpecs,
  mutation: fc.constantFrom(...Object.keys(MUTATIONS)),
  r: fc.nat({ max: 2 ** 30 }),
});

describe("fuzz: malformed safetensors", () => {
  test("600 files that break one rule each are refused with that rule, the file named, quickly", async () => {
    const memory = new MemoryWatch();
    const seen = new Set<string>();
    await check(
      fc.asyncProperty(malformed, async ({ tensors, mutation, r }) => {
        const d = draft(tensors);
        const code = MUTATIONS[mutation](d, tensors, r);
        const bytes = encode(d);
        const e = await expectFailure(() => parseSafetensors(bytes, LABEL));
        assertCleanError(e, { file: LABEL, code });
        seen.add(mutation);
        memory.sample();
      }),
      600,
    );
    memory.assertBounded("600 malformed safetensors");
    assert.ok(seen.size >= Object.keys(MUTATIONS).length - 2, `most mutations were exercised: ${[...seen].join(", ")}`);
  });

  test("300 random byte flips: either a valid file or a clean error, never a crash", async () => {
    await check(
      fc.asyncProperty(
        tensorSpecs,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (tensors, flips) => {
          const bytes = encode(draft(tensors));
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          try {
            parseSafetensors(bytes, LABEL);
          } catch (e) {
            assert.ok(isHeadLensError(e), String(e));
            assertCleanError(e, { file: LABEL, code: "safetensors." });
          }
        },
      ),
      300,
    );
  });
});
