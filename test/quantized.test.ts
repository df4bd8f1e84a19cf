/**
 * Quantized safetensors (src/core/quantized.ts): dequantization against numpy (a fixture it wrote)
 * and against an independent float64 reader (support/quantizedReference.ts), a quantized model folder
 * loading through the product's loader, and malformed quantized tensors refused by name.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseSafetensors, readFloatTensor } from "../src/core/safetensors";
import { inspectModelFolder, loadLocalModel } from "../src/worker/loaders/localModel";
import { REPO_ROOT } from "./support/engine";
import { Header, checkpointFolder, independentWeights, splitFile, withHeader } from "./support/quantizedReference";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "quantized");
const TINY_MODEL = join(FIXTURES, "tiny-model");

describe("quantized tensors", () => {
  test("4-bit and 8-bit groups dequantize to exactly numpy's float32 values (fixture written by numpy)", () => {
    const f = parseSafetensors(readFileSync(join(FIXTURES, "tiny.q.safetensors")), "tiny.q.safetensors");
    const want = parseSafetensors(readFileSync(join(FIXTURES, "tiny.expected.safetensors")), "tiny.expected.safetensors");
    for (const [name, shape] of [
      ["a4", [3, 16]],
      ["b8", [2, 4, 8]],
      ["c", [5]],
    ] as const) {
      const got = readFloatTensor(f, name);
      assert.deepEqual(got.shape, shape, name);
      assert.deepEqual(Array.from(got.data), Array.from(readFloatTensor(want, name).data), name);
    }
    // and each value is its original up to half a step, or clipped to the largest level (±qmax × scale)
    for (const [name, group, qmax] of [
      ["a4", 8, 7],
      ["b8", 4, 127],
    ] as const) {
      const got = readFloatTensor(f, name).data,
        orig = readFloatTensor(want, `${name}.original`).data,
        scales = readFloatTensor(want, `${name}.scales`).data;
      got.forEach((v, i) => {
        const s = scales[Math.floor(i / group)];
        assert.ok(Math.abs(v - orig[i]) <= Math.max(0.5 * s, Math.abs(orig[i]) - qmax * s) * 1.0001, `${name}[${i}]: ${v} vs ${orig[i]}`);
      });
    }
  });

  test("a quantized model folder loads through the product's loader with every weight as the independent reader computes it", () => {
    const model = loadLocalModel(TINY_MODEL);
    const want = independentWeights(join(TINY_MODEL, "model.safetensors"), TINY_MODEL);
    const pairs: [string, { shape: number[]; data: Float32Array } | undefined, { shape: number[]; data: Float32Array } | undefined][] = [
      ["W_E", model.weights.W_E, want.W_E],
      ["W_U", model.weights.W_U, want.W_U],
      ["W_pos", model.weights.W_pos, want.W_pos],
      ["W_Q", model.weights.blocks[0].W_Q, want.blocks[0].W_Q],
      ["W_O", model.weights.blocks[0].W_O, want.blocks[0].W_O],
      ["b_U", model.weights.b_U, want.b_U],
      ["ln1_w", model.weights.blocks[0].ln1_w, want.blocks[0].ln1_w],
    ];
    for (const [name, got, exp] of pairs) {
      assert.deepEqual(got!.shape, exp!.shape, name);
      assert.deepEqual(Array.from(got!.data), Array.from(exp!.data), name);
    }
    assert.deepEqual(model.weights.W_E.shape, [64, 16]);
    assert.equal(inspectModelFolder(TINY_MODEL).d_model, 16);
  });

  const malformed: [string, (h: Header) => void, RegExp][] = [
    [
      "bits not 4 or 8",
      (h) => {
        const meta = h.__metadata__ as Record<string, string>;
        meta["head_lens.quantized"] = meta["head_lens.quantized"].replace('"embed.W_E":{"bits":4', '"embed.W_E":{"bits":3');
      },
      /quantized tensor "embed\.W_E": bits 3 is not supported \(4 or 8\)/,
    ],
    [
      "scales of the wrong shape for the declared group",
      (h) => {
        const meta = h.__metadata__ as Record<string, string>;
        meta["head_lens.quantized"] = meta["head_lens.quantized"].replace(
          '"unembed.W_U":{"bits":4,"group":8',
          '"unembed.W_U":{"bits":4,"group":16',
        );
      },
      /quantized tensor "unembed\.W_U": scales have shape \[16, 8\] but \[16, 64\] in groups of 16 needs \[16, 4\]/,
    ],
    [
      "4-bit values stored as I8",
      (h) => ((h["embed.W_E"] as { dtype: string }).dtype = "I8"),
      /quantized tensor "embed\.W_E": 4-bit values must be stored as U8, not I8/,
    ],
    [
      "a missing scales tensor",
      (h) => {
        h["embed.W_E.scale"] = h["embed.W_E.scales"];
        delete h["embed.W_E.scales"];
      },
      /quantized tensor "embed\.W_E": its scales tensor "embed\.W_E\.scales" is missing/,
    ],
  ];
  for (const [what, edit, message] of malformed) {
    test(`a checkpoint with ${what} is refused, naming the file and the tensor, before any weight is read`, () => {
      const dir = checkpointFolder(withHeader(readFileSync(join(TINY_MODEL, "model.safetensors")), edit), TINY_MODEL);
      try {
        for (const load of [inspectModelFolder, loadLocalModel]) {
          assert.throws(
            () => load(dir),
            (e: Error & { code?: string }) => {
              assert.equal(e.code, "safetensors.quantized", e.message);
              assert.ok(e.message.startsWith(join(dir, "model.safetensors")), e.message);
              assert.match(e.message, message);
              assert.match(e.message, /re-create the file with training\/quantize_checkpoints\.py/);
              return true;
            },
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test("a NaN scale is refused when the weights are read, naming the tensor and the scale", () => {
    const bytes = Buffer.from(readFileSync(join(TINY_MODEL, "model.safetensors")));
    const { header } = splitFile(bytes);
    const scales = header["unembed.W_U.scales"] as { dtype: string; data_offsets: [number, number] };
    assert.equal(scales.dtype, "F16");
    bytes.writeUInt16LE(0x7e00, 8 + Number(bytes.readBigUInt64LE(0)) + scales.data_offsets[0] + 2 * 5);
    const dir = checkpointFolder(bytes, TINY_MODEL);
    try {
      assert.doesNotThrow(() => inspectModelFolder(dir)); // the header is sound; the value is not
      assert.throws(
        () => loadLocalModel(dir),
        /model\.safetensors: quantized tensor "unembed\.W_U": scale 5 is NaN; the weights are corrupt/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
