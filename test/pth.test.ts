import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { readPthFile } from "../src/worker/loaders/pth";
import { unpickle } from "../src/worker/loaders/pickle";
import { REPO_ROOT } from "./support/engine";
import { deepList, memoBomb, tinyCheckpoint } from "./support/hostileInputs";
import { PickleWriter } from "./support/pickleWriter";
import { openPth } from "../src/worker/loaders/pth";

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

describe("the unpickler is bounded by its input", () => {
  const refuse = (w: PickleWriter, re: RegExp) =>
    assert.throws(
      () => unpickle(w.bytes(), "x.pkl"),
      (e: Error) => re.test(e.message) && e.message.startsWith("x.pkl: "),
    );
  test("a memo bomb is refused while it is built", () => refuse(memoBomb(new PickleWriter(), 9, 10).get(1009).stop(), /memo bomb/));
  test("a DUP bomb too", () => {
    const w = new PickleWriter().emptyList();
    for (let i = 0; i < 40; i++) w.dup().tuple2();
    refuse(w.stop(), /memo bomb/);
  });
  test("nesting deeper than 100 (lists, MARKs)", () => {
    refuse(deepList(new PickleWriter(), 100_000).stop(), /nesting deeper than 100/);
    const marks = new PickleWriter();
    for (let i = 0; i < 1000; i++) marks.mark();
    refuse(marks, /nesting deeper than 100/);
  });
  test("a negative length never moves the reader backwards", () =>
    refuse(new PickleWriter().raw(Buffer.from([0x54, 0xfb, 0xff, 0xff, 0xff])).stop(), /negative or invalid length -5/));
  test("self-referencing and later-mutated containers are refused (their size could not be bounded)", () => {
    refuse(new PickleWriter().emptyList().dup().append().stop(), /contains itself/);
    refuse(new PickleWriter().emptyList().put(1).op(0x85).get(1).int(1).append().stop(), /after placing it inside another/);
  });
  test("a 150 000-item list does not overflow the call stack", () => {
    const w = new PickleWriter().emptyList().mark();
    for (let i = 0; i < 150_000; i++) w.none();
    assert.equal((unpickle(w.appends().stop().bytes(), "x.pkl") as unknown[]).length, 150_000);
  });
});

describe("tensors are checked against their storage before anything is decoded", () => {
  test("a float64 weight is an unsupported dtype, not a missing tensor", async () => {
    const ckpt = await openPth(tinyCheckpoint({ storageType: (n) => (n === "embed.W_E" ? "DoubleStorage" : "FloatStorage") }), "m.pth");
    assert.equal(ckpt.dtypeOf("embed.W_E"), "F64");
    assert.throws(
      () => ckpt.read("embed.W_E"),
      /m\.pth: unsupported dtype F64 for tensor "embed\.W_E"; .*re-save as float32, float16 or bfloat16/,
    );
  });
  test("a broadcast (stride-0) view larger than its storage is refused when the file is opened", async () => {
    const pth = tinyCheckpoint({ view: (n) => (n === "unembed.b_U" ? { size: [1 << 28], stride: [0] } : undefined) });
    await assert.rejects(
      openPth(pth, "m.pth"),
      /tensor "unembed\.b_U" \[268435456\] claims more elements than its 8-element storage holds/,
    );
  });
});
