import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readPthFile } from "../src/worker/loaders/pth";
import { unpickle } from "../src/worker/loaders/pickle";
import { REPO_ROOT } from "./support/engine";

const PTH = join(REPO_ROOT, "test", "fixtures", "pth");
const MARKER = "/tmp/head-lens-pwned";

describe(".pth files written by torch.save", () => {
  test("float32, float16, bfloat16, transposed and offset views, parameters decode to the saved values", async () => {
    const sd = await readPthFile(join(PTH, "views.pth"));
    const want = JSON.parse(readFileSync(join(PTH, "views.json"), "utf8")) as Record<string, number[] | number[][]>;
    for (const [name, values] of Object.entries(want)) {
      const t = sd.tensors.get(name);
      assert.ok(t, `tensor ${name} present`);
      const flat = (values as number[][]).flat ? (values as number[][]).flat() : values;
      assert.deepEqual(t!.shape, Array.isArray(values[0]) ? [values.length, (values[0] as number[]).length] : [values.length], name);
      assert.deepEqual(Array.from(t!.data), flat, name);
    }
  });
  test("a TransformerLens state dict keeps its float weights and skips bool buffers", async () => {
    const sd = await readPthFile(join(REPO_ROOT, "test", "fixtures", "hub", "NeelNanda", "Attn_Only_Tiny_C4_Code", "model_final.pth"));
    assert.deepEqual(sd.tensors.get("blocks.1.attn.W_Q")!.shape, [4, 32, 8]);
    assert.ok(sd.skipped.includes("blocks.0.attn.mask"));
    assert.ok(sd.tensors.has("blocks.0.attn.IGNORE"), "a float buffer is still a tensor");
  });
});

describe("hostile and broken files are refused without side effects", () => {
  const cases: [string, RegExp][] = [
    ["hostile-reduce.pth", /refuses global (posix|os)\.system/],
    ["hostile-nested.pth", /refuses global (posix|os)\.system/],
    ["hostile-proto4.pth", /refuses global builtins\.eval/],
    ["hostile-inst.pth", /refuses INST os\.system/],
    ["hostile-build.pth", /refuses BUILD on torch\._utils\._rebuild_tensor_v2/],
    ["legacy.pth", /legacy \(pre-1\.6, non-zip\) format.*re-save it with torch ≥ 1\.6/],
    ["truncated.pth", /not a readable zip archive|corrupt zip/],
    ["short-storage.pth", /holds 4 elements but declares 8|reaches element/],
  ];
  for (const [file, re] of cases) {
    test(file, async () => {
      rmSync(MARKER, { force: true });
      await assert.rejects(readPthFile(join(PTH, file)), (e: Error) => {
        assert.match(e.message, re);
        assert.ok(e.message.includes(file), "the error names the file");
        return true;
      });
      assert.ok(!existsSync(MARKER), "nothing was executed");
    });
  }
  test("unsupported opcodes and stack abuse are errors, not crashes", () => {
    assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x52]), "x.pkl"), /stack underflow/);
    assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x82, 0x01]), "x.pkl"), /EXT1/);
    assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x68, 0x05]), "x.pkl"), /memo entry 5/);
    assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x58, 0xff, 0xff, 0, 0]), "x.pkl"), /ends early/);
    assert.throws(() => unpickle(Uint8Array.from([0xff]), "x.pkl"), /unsupported pickle opcode 0xff/);
  });
});
