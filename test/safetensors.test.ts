import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseSafetensors, readFloatTensor, writeSafetensors } from "../src/core/safetensors";
import { configFor } from "./support/models";
import { weightsFromSafetensors } from "../src/core/weights";
import { randomWeights } from "./support/models";
import { weightsToNamedTensors } from "../src/core/weights";
import { decodeHalf, halfToFloat } from "../src/core/halfFloat";

const LABEL = "/models/x/model.safetensors";

function fileWithHeader(header: unknown, dataBytes = 0, rawHeader?: string): Uint8Array {
  const json = rawHeader ?? JSON.stringify(header);
  const h = Buffer.alloc(8);
  h.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([h, Buffer.from(json), Buffer.alloc(dataBytes)]);
}

function expectError(bytes: Uint8Array, code: string, ...fragments: (string | RegExp)[]): void {
  assert.throws(
    () => parseSafetensors(bytes, LABEL),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, `safetensors.${code}`, e.message);
      assert.ok(e.message.startsWith(LABEL), `message names the file: ${e.message}`);
      for (const f of fragments) assert.match(e.message, typeof f === "string" ? new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : f);
      return true;
    },
  );
}

describe("safetensors round trip", () => {
  for (const dtype of ["F32", "F16", "BF16"] as const) {
    test(`${dtype} values survive write -> read`, () => {
      const data = new Float32Array([0, 1, -2.5, 3.140625, 65504, -1e-3, 0.1]);
      const bytes = writeSafetensors(
        [
          { name: "t", dtype, shape: [7], data },
          { name: "u", dtype, shape: [1, 2], data: new Float32Array([5, 6]) },
        ],
        { format: "pt" },
      );
      const f = parseSafetensors(bytes, LABEL);
      assert.deepEqual(f.metadata, { format: "pt" });
      const t = readFloatTensor(f, "t");
      assert.deepEqual(t.shape, [7]);
      const tol = dtype === "F32" ? 0 : dtype === "F16" ? 1e-3 : 1e-2;
      data.forEach((v, i) => assert.ok(Math.abs(t.data[i] - v) <= tol * Math.max(1, Math.abs(v)), `${dtype}[${i}]: ${t.data[i]} vs ${v}`));
      assert.deepEqual(Array.from(readFloatTensor(f, "u").data), [5, 6]);
    });
  }
});

test("F16 decoding gives every one of the 65 536 halves its value, at an even and an odd byte offset", () => {
  for (const offset of [0, 1]) {
    const bytes = new Uint8Array(offset + 2 * 65536);
    const view = new DataView(bytes.buffer);
    for (let h = 0; h < 65536; h++) view.setUint16(offset + 2 * h, h, true);
    const out = decodeHalf(bytes.subarray(offset));
    for (let h = 0; h < 65536; h++) {
      const want = halfToFloat(h);
      assert.ok(
        Object.is(out[h], Math.fround(want)) || (Number.isNaN(want) && Number.isNaN(out[h])),
        `half 0x${h.toString(16)} at offset ${offset}: ${out[h]} != ${want}`,
      );
    }
  }
});

describe("malformed safetensors are refused with a specific error", () => {
  test("too short", () => expectError(new Uint8Array(5), "short", "too short"));
  test("header length past the end", () => {
    const b = fileWithHeader({});
    new DataView(b.buffer, b.byteOffset).setBigUint64(0, 1000n, true);
    expectError(b, "header-bounds", "runs past the end");
  });
  test("header not JSON", () => expectError(fileWithHeader(null, 0, "{not json"), "header-json", "not valid UTF-8 JSON"));
  test("header not an object", () => expectError(fileWithHeader([1, 2]), "header-json", "not an object"));
  test("unknown dtype", () =>
    expectError(fileWithHeader({ w: { dtype: "F33", shape: [1], data_offsets: [0, 4] } }, 4), "dtype", 'tensor "w"', "F33"));
  test("bad shape", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4), "shape", 'tensor "w"'));
  test("reversed offsets", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, 4), "offsets", "reversed"));
  test("offsets past the data", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4), "bounds", 'tensor "w"', "truncated"));
  test("byte length != shape x dtype", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8), "length", "needs 12"));
  test("overlapping tensors", () =>
    expectError(
      fileWithHeader(
        {
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
        },
        12,
      ),
      "overlap",
      '"a"',
      '"b"',
    ));
  test("metadata of non-strings", () => expectError(fileWithHeader({ __metadata__: { a: 1 } }), "metadata"));
  test("a weight tensor of integer dtype", () => {
    const f = parseSafetensors(fileWithHeader({ w: { dtype: "I32", shape: [1], data_offsets: [0, 4] } }, 4), LABEL);
    assert.throws(() => readFloatTensor(f, "w"), /unsupported dtype I32 for tensor "w"; weights must be F32, F16 or BF16/);
  });
});

describe("the safetensors library's rules, exactly", () => {
  const w = { dtype: "F32", shape: [1], data_offsets: [0, 4] };
  const raw = (json: string | Buffer, dataBytes = 0) => {
    const body = Buffer.isBuffer(json) ? json : Buffer.from(json, "utf8");
    const h = Buffer.alloc(8);
    h.writeBigUInt64LE(BigInt(body.length));
    return Buffer.concat([h, body, Buffer.alloc(dataBytes)]);
  };
  test("a UTF-8 BOM before the header JSON", () =>
    expectError(raw(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ w }))]), 4), "bom", "byte-order mark"));
  test("__metadata__ that is a list", () => expectError(fileWithHeader({ __metadata__: ["a"], w }, 4), "metadata", "got a list"));
  test("__metadata__ null is no metadata (as the library's Option)", () =>
    assert.deepEqual(parseSafetensors(fileWithHeader({ __metadata__: null, w }, 4), LABEL).metadata, {}));
  test("the same tensor name twice", () =>
    expectError(
      raw(`{"w":${JSON.stringify(w)},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8),
      "duplicate",
      'tensor "w" appears twice',
    ));
  test("a field twice inside one tensor", () =>
    expectError(raw(`{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`, 4), "duplicate", 'field "dtype"'));
  test("a fractional offset", () => expectError(raw(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}`, 4), "offsets"));
  test("a gap before the first tensor", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8), "gap", "contiguous from byte 0"));
  test("bytes after the last tensor", () => expectError(fileWithHeader({ w }, 8), "coverage", "covered exactly"));
  test("a shape that overflows", () =>
    expectError(fileWithHeader({ w: { dtype: "F32", shape: [2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, 4), "overflow"));
  test("sub-byte dtypes must end on a byte boundary", () =>
    expectError(fileWithHeader({ w: { dtype: "F4", shape: [3], data_offsets: [0, 1] } }, 1), "misaligned"));
  test("a header over the library's 100 000 000-byte limit", () => {
    const b = fileWithHeader({});
    new DataView(b.buffer, b.byteOffset).setBigUint64(0, 100_000_001n, true);
    expectError(b, "header-bounds", "exceeds the safetensors limit");
  });
  test("JSON whitespace around the header is padding, as the library allows", () => {
    const f = parseSafetensors(raw(` \t\n${JSON.stringify({ w })}   `, 4), LABEL);
    assert.deepEqual(f.tensors.get("w")?.shape, [1]);
  });
  test("a lone surrogate escape is not valid JSON (serde_json refuses it)", () =>
    expectError(raw(`{"\\ud800":${JSON.stringify(w)}}`, 4), "header-json", "surrogate"));
});

describe("model weights against config", () => {
  const spec = { V: 50, D: 8, H: 2, E: 4, L: 1 };
  const write = (
    mutate: (t: { name: string; dtype: "F32" | "F16" | "BF16"; shape: number[]; data: Float32Array }[]) => void,
    dtype: "F32" | "F16" | "BF16" = "F32",
  ) => {
    const tensors = weightsToNamedTensors(randomWeights(spec)).map(([name, t]) => ({
      name,
      dtype,
      shape: t.shape,
      data: new Float32Array(t.data),
    }));
    mutate(tensors);
    return parseSafetensors(writeSafetensors(tensors), LABEL);
  };
  test("missing tensor names the TL name and shape", () => {
    const f = write((ts) =>
      ts.splice(
        ts.findIndex((t) => t.name === "blocks.0.attn.W_K"),
        1,
      ),
    );
    assert.throws(() => weightsFromSafetensors(configFor(spec), f), /required tensor "blocks\.0\.attn\.W_K" \[2, 8, 4\] is missing/);
  });
  test("wrong shape", () => {
    const f = write((ts) => {
      const t = ts.find((x) => x.name === "unembed.W_U")!;
      t.shape = [spec.V, spec.D];
    });
    assert.throws(
      () => weightsFromSafetensors(configFor(spec), f),
      /"unembed\.W_U" has shape \[50, 8\] but config\.json implies \[8, 50\]/,
    );
  });
  test("NaN / Inf reported with count and position", () => {
    const f = write((ts) => {
      const t = ts.find((x) => x.name === "embed.W_E")!;
      t.data[7] = NaN;
      t.data[9] = Infinity;
    });
    assert.throws(() => weightsFromSafetensors(configFor(spec), f), /"embed\.W_E" contains 2 NaN\/Inf value\(s\), first at flat index 7/);
  });
  test("NaN / Inf in F16 and BF16 tensors (found while decoding) reported with count and position, finite ones accepted", () => {
    for (const dtype of ["F16", "BF16"] as const) {
      const f = write((ts) => {
        const t = ts.find((x) => x.name === "unembed.W_U")!;
        t.data[3] = -Infinity;
        t.data[11] = NaN;
        t.data[12] = Infinity;
      }, dtype);
      assert.throws(
        () => weightsFromSafetensors(configFor(spec), f),
        /"unembed\.W_U" contains 3 NaN\/Inf value\(s\), first at flat index 3/,
        dtype,
      );
      const ok = write((ts) => ts.find((x) => x.name === "unembed.W_U")!.data.fill(65504), dtype); // F16's largest finite value
      assert.doesNotThrow(() => weightsFromSafetensors(configFor(spec), ok), dtype);
    }
  });
});
