import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { pythonReprInner, displayTokenBytes } from "../src/core/tokenDisplay";
import { Gpt2Vocabulary, MappedGpt2Vocabulary } from "../src/worker/loaders/vocabulary";
import { wordsPrior, priorFromCounts, uniformPrior } from "../src/worker/loaders/priors";

describe("token display follows the notebook (Python repr inside single quotes)", () => {
  const v = new Gpt2Vocabulary(50304);
  test("plain token", () => assert.equal(v.display(23748), "' hello'"));
  test("apostrophe token uses repr's double-quote choice: ''s'", () => assert.equal(v.display(338), "''s'"));
  test("newline, tab and backslash are escaped", () => {
    assert.equal(v.display(198), "'\\n'");
    assert.equal(v.display(197), "'\\t'");
    assert.equal(v.display(59), "'\\\\'");
  });
  test("a token that is not valid UTF-8 on its own shows byte escapes", () => {
    const ids = v.encode("日本");
    assert.equal(ids.length, 4);
    assert.match(v.display(ids[0]), /^'\\x[0-9a-f]{2}(\\x[0-9a-f]{2})?'$/);
    assert.equal(displayTokenBytes(Uint8Array.from([0xe6, 0x97, 0xa5])), "'日'");
    assert.equal(displayTokenBytes(Uint8Array.from([0x61, 0xe6, 0x97])), "'a\\xe6\\x97'");
  });
  test("BOS and padded ids", () => {
    assert.equal(v.display(50256), "'<|endoftext|>'");
    assert.equal(v.display(50300), "<id 50300>");
  });
  test("repr escapes: both quotes, non-printables, printable non-ASCII", () => {
    assert.equal(pythonReprInner(`it's "x"`), `it\\'s "x"`);
    assert.equal(pythonReprInner("a\u200bb\x7f\u00a0"), "a\\u200bb\\x7f\\xa0");
    assert.equal(pythonReprInner("é😀"), "é😀");
    assert.equal(pythonReprInner("\u{e0001}"), "\\U000e0001");
  });
  test("special-token text in input is encoded as plain text", () => {
    assert.ok(v.encode("<|endoftext|>").length > 1);
  });
});

describe("model ids mapped onto a subset of GPT-2", () => {
  const gpt2 = new Gpt2Vocabulary(50257);
  const keep = [50256, ...gpt2.encode(" the cat sat on the mat"), -1];
  const mapped = new MappedGpt2Vocabulary(keep, 0, keep.length - 1);
  test("display goes through the map; UNK is labelled", () => {
    assert.equal(mapped.display(0), "'<|endoftext|>'");
    assert.equal(mapped.display(1), "' the'");
    assert.equal(mapped.display(keep.length - 1), "<unk>");
  });
  test("text round-trips through the map; unknown tokens become UNK", () => {
    const ids = mapped.encode(" the cat sat on the mat");
    assert.deepEqual(ids.map((i) => mapped.display(i)).join(""), "' the'' cat'' sat'' on'' the'' mat'");
    const unknown = mapped.encode(" zebra");
    assert.ok(unknown.length >= 1 && unknown.every((id) => id === keep.length - 1), `all UNK: ${unknown}`);
  });
});

describe("token priors", () => {
  const v = new Gpt2Vocabulary(50257);
  test("words.txt: trimmed non-empty lines, every token counted, +1e-10, renormalized", () => {
    const [a] = v.encode("a");
    const [, b] = v.encode("a b");
    const p = wordsPrior("a b\n\n   a  \n", v, "w").p;
    const V = 50257;
    const z = 1 + V * 1e-10;
    const rel = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * y;
    assert.ok(rel(p[a], (2 / 3 + 1e-10) / z), `p(a) = ${p[a]}`);
    assert.ok(rel(p[b], (1 / 3 + 1e-10) / z), `p(b) = ${p[b]}`);
    assert.ok(rel(p[12345], 1e-10 / z), `p(unseen) = ${p[12345]}`);
    assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-9);
  });
  test("uniform and counts", () => {
    assert.equal(uniformPrior(4).p[2], 0.25);
    const p = priorFromCounts([0, 3, 1], "c").p;
    assert.ok(p[1] > 2.99 * p[2] && p[0] > 0);
  });
});
