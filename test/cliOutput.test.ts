/**
 * The CLI's streamed output (src/host/cli/output.ts): the chunks of a document with lazy arrays are
 * exactly JSON.stringify's bytes of the same values, a slow reader is waited for (memory stays at
 * one piece), and a reader that goes away ends the writing without an error.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import fc from "fast-check";
import { jsonChunks, jsonMembers, LazyArray, writeJson, writeOut } from "../src/host/cli/output";

/** `v` with some of its arrays (chosen by `pick`) made LazyArrays, at any depth. */
function lazify(v: unknown, pick: () => boolean): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => lazify(x, pick));
    return pick() ? new LazyArray(items.length, (i) => items[i]) : items;
  }
  if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v))
      // defineProperty: a "__proto__" key stays a key
      Object.defineProperty(o, k, {
        value: lazify((v as Record<string, unknown>)[k], pick),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return o;
  }
  return v;
}

describe("streamed CLI output", () => {
  test("jsonChunks gives JSON.stringify's bytes of the same values (numbers, -0, NaN, undefined, holes, odd strings)", () => {
    const value = fc.anything({ withTypedArray: true, withSparseArray: true, withBoxedValues: true, maxDepth: 4 });
    fc.assert(
      fc.property(value, fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }), (v, bits) => {
        let i = 0;
        const lazy = lazify(v, () => bits[i++ % bits.length]);
        assert.equal([...jsonChunks(lazy)].join(""), JSON.stringify(v) ?? "null");
      }),
      { numRuns: 2000 },
    );
    // Float32 weights read as JS numbers (what run --json writes), in rows of lazy arrays.
    const rows = Array.from({ length: 50 }, (_, r) => Array.from(new Float32Array(40).map((_, j) => Math.sin(r * 40 + j) / (j + 1))));
    const doc = { attention: new LazyArray(rows.length, (r) => rows[r]), next: [null, { p: 1e-7 }], skip: undefined };
    assert.equal([...jsonChunks(doc)].join(""), JSON.stringify({ attention: rows, next: [null, { p: 1e-7 }] }));
  });

  test("an object written in two parts (its first fields early) is JSON.stringify's bytes of the whole object", () => {
    // Names, not array indices: JavaScript orders index-like keys first in any object, whatever the parts.
    const name = fc.string().filter((k) => !/^(0|[1-9]\d*)$/.test(k));
    const fields = fc.dictionary(name, fc.jsonValue(), { maxKeys: 6 });
    fc.assert(
      fc.property(name, fc.jsonValue(), fields, fields, (k, v, a, b) => {
        const first = { [k]: v, ...a }; // at least one member, as run --json's head has
        const rest = Object.fromEntries(Object.entries(b).filter(([key]) => !(key in first)));
        const parts = ["{", ...jsonMembers(first, true), ...jsonMembers(rest, false), "}"].join("");
        assert.equal(parts, JSON.stringify({ ...first, ...rest }));
      }),
      { numRuns: 500 },
    );
  });

  test("a slow reader is waited for: never more than about one piece queued, every byte delivered in order", async () => {
    let received = "",
      maxQueued = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      decodeStrings: false,
      write(chunk: string, _enc, done) {
        received += chunk;
        setTimeout(done, 1);
      },
    });
    const row = Array.from({ length: 1000 }, (_, i) => Math.fround(1 / (i + 3)));
    const doc = new LazyArray(200, () => row);
    const chunks = (function* () {
      for (const c of jsonChunks(doc)) {
        maxQueued = Math.max(maxQueued, slow.writableLength);
        yield c;
      }
    })();
    assert.equal(await writeOut(chunks, slow, 8192), true);
    await new Promise((r) => slow.end(r));
    assert.equal(received, JSON.stringify(Array.from({ length: 200 }, () => row)));
    assert.ok(received.length > 20 * 8192);
    assert.ok(maxQueued <= 2 * 8192, `queued ${maxQueued} characters while writing`);
  });

  test("a reader that goes away (EPIPE) ends the writing: false, no error thrown, the rest not even made", async () => {
    const epipe = () => Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    // A full pipe (write says wait) failing later, and one that takes the write and fails at once, as stdout's synchronous pipes do.
    const full = new Writable({ highWaterMark: 16, write: (_c, _e, done) => setImmediate(() => done(epipe())) });
    const synchronous = new Writable({ highWaterMark: 1 << 30, write: (_c, _e, done) => done(epipe()) });
    for (const closing of [full, synchronous]) {
      let made = 0;
      const doc = new LazyArray(100_000, (i) => (made++, [i, i + 0.5]));
      assert.equal(await writeJson(doc, closing), false);
      assert.ok(made < 100_000, `${made} rows made after the reader left`);
      // Later output to the same stream is dropped quietly too.
      assert.equal(await writeOut(["more"], closing), false);
    }
    // A pipe that took the last write and fails after it: no error escapes, later output is dropped.
    const after = new Writable({ highWaterMark: 1 << 30, write: (_c, _e, done) => setTimeout(() => done(epipe()), 5) });
    assert.equal(await writeOut(["[1]"], after), true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await writeOut(["more"], after), false);
  });
});
