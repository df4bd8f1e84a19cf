/** Token spans in the text (what editor highlights are placed by) and the text window live attention follows. */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { rangeAfterEdit, windowAround } from "../src/core/textWindow";
import { spansFromTokenBytes, tokenAt } from "../src/core/tokenSpans";
import { strongestEdges, thumbnails, topKeys } from "../src/core/patternThumbnail";
import { HfTokenizerVocabulary } from "../src/worker/loaders/hfTokenizer";
import { Gpt2Vocabulary } from "../src/worker/loaders/vocabulary";
import { REPO_ROOT } from "./support/engine";
import { mulberry32 } from "./support/random";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("token spans", () => {
  test("GPT-2 BPE: spans tile the text, multi-byte characters included (a token ending mid-character covers it)", () => {
    const vocab = new Gpt2Vocabulary(50257);
    const text = "naïve café ✓ 😀 x\ttab\n\n  indent";
    const { pieces } = vocab.encodePieces(text);
    const spans = spansFromTokenBytes(text, pieces);
    assert.equal(spans[0].start, 0);
    assert.equal(spans[spans.length - 1].end, text.length);
    for (let i = 1; i < spans.length; i++)
      assert.ok(spans[i].start >= spans[i - 1].start && spans[i].start <= spans[i - 1].end, `span ${i} follows ${i - 1}`);
    // The emoji is 4 UTF-8 bytes, one surrogate pair: every token of it spans the pair.
    const emoji = text.indexOf("😀");
    for (const s of spans.filter((x) => x.start <= emoji && x.end > emoji)) assert.ok(s.end >= emoji + 2);
  });

  test("HF tokenizer (gpt-neox digits): digits one per token, each at its place", () => {
    const vocab = HfTokenizerVocabulary.fromFile(
      join(REPO_ROOT, "test", "fixtures", "hub", "NeelNanda", "gpt-neox-tokenizer-digits", "tokenizer.json"),
      50278,
      "gpt-neox-digits",
    );
    const text = "x = 1234 + y";
    const { ids, pieces } = vocab.encodePieces(text);
    const spans = spansFromTokenBytes(text, pieces);
    assert.equal(spans.length, ids.length);
    assert.equal(spans.map((s) => text.slice(s.start, s.end)).join(""), text);
    assert.ok(["1", "2", "3", "4"].every((d) => spans.some((s) => text.slice(s.start, s.end) === d)));
  });

  test("bytes that stop matching (a normalizing tokenizer) fall back to searching the decoded text", () => {
    const text = "ab cd";
    const spans = spansFromTokenBytes(text, [utf8("ab"), utf8(" CD"), utf8("cd")]);
    assert.deepEqual(spans, [
      { start: 0, end: 2 },
      { start: 2, end: 2 },
      { start: 3, end: 5 },
    ]);
  });

  test("tokenAt: the token under an offset, never BOS or an empty span", () => {
    const spans = [
      { start: 0, end: 0 },
      { start: 0, end: 3 },
      { start: 3, end: 4 },
      { start: 4, end: 9 },
    ];
    assert.equal(tokenAt(spans, 0), 1);
    assert.equal(tokenAt(spans, 3), 2);
    assert.equal(tokenAt(spans, 8), 3);
    assert.equal(tokenAt(spans, 9), 3, "the end of the text belongs to the last token");
    assert.equal(tokenAt([{ start: 0, end: 0 }], 0), -1);
  });
});

describe("the text live attention follows", () => {
  test("windowAround: the whole text when short, else whole lines mostly before the cursor", () => {
    assert.deepEqual(windowAround("short\ntext\n", 3, 256), { start: 0, end: 11 });
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join("\n");
    const cursor = text.indexOf("line 1000");
    const w = windowAround(text, cursor, 64);
    assert.ok(w.start < cursor && cursor < w.end);
    assert.ok(cursor - w.start > 2 * (w.end - cursor), "more before the cursor than after it");
    assert.ok(w.start === 0 || text[w.start - 1] === "\n");
    assert.ok(text[w.end - 1] === "\n" || w.end === text.length);
  });

  test("rangeAfterEdit: edits before shift it, inside or at its end resize it, after leave it", () => {
    const r = { start: 10, end: 20 };
    assert.deepEqual(rangeAfterEdit(r, 2, 0, 3), { start: 13, end: 23 }, "insert before");
    assert.deepEqual(rangeAfterEdit(r, 10, 0, 3), { start: 13, end: 23 }, "insert at the start stays outside");
    assert.deepEqual(rangeAfterEdit(r, 15, 2, 0), { start: 10, end: 18 }, "delete inside");
    assert.deepEqual(rangeAfterEdit(r, 20, 0, 5), { start: 10, end: 25 }, "typing at the end extends it");
    assert.deepEqual(rangeAfterEdit(r, 25, 1, 0), r, "after");
    assert.deepEqual(rangeAfterEdit(r, 5, 10, 0), { start: 5, end: 10 }, "a deletion across the start");
    assert.deepEqual(rangeAfterEdit(r, 15, 10, 1), { start: 10, end: 16 }, "a replacement across the end");
    assert.deepEqual(rangeAfterEdit(r, 5, 20, 0), { start: 5, end: 5 }, "deleted entirely");
  });
});

describe("pattern thumbnails", () => {
  test("exact bytes up to the size; max-pooled above it, so a one-position stripe survives", () => {
    const T = 10;
    const p = new Float32Array(T * T);
    for (let i = 0; i < T; i++) p[i * T + Math.max(0, i - 1)] = 1; // previous-token head
    const small = thumbnails(p, 1, T, 16);
    assert.equal(small.size, T);
    assert.equal(small.data[3 * T + 2], 255);
    const pooled = thumbnails(p, 1, T, 4);
    assert.equal(pooled.size, 4);
    for (let b = 1; b < 4; b++)
      assert.ok(pooled.data[b * 4 + b] === 255 || pooled.data[b * 4 + b - 1] === 255, `stripe visible in bin ${b}`);
    assert.deepEqual(topKeys([0.1, 0.5, 0.5, 0, 0.2], 3), [
      { key: 1, weight: 0.5 },
      { key: 2, weight: 0.5 },
      { key: 4, weight: 0.2 },
    ]);
  });

  test("a head's strongest edges (run's text report) are those of sorting every row's and then all of them", () => {
    const rand = mulberry32(25);
    for (const [T, H, n] of [
      [1, 1, 3],
      [2, 2, 5],
      [7, 3, 4],
      [40, 2, 5],
      [64, 2, 30],
      [3, 1, 10],
    ]) {
      // Weights on a coarse grid (ties everywhere), zeros above the diagonal and some on it.
      const layer = new Float32Array(H * T * T).map((_, i) =>
        i % T <= Math.floor(i / T) % T && rand() > 0.2 ? Math.ceil(rand() * 8) / 8 : 0,
      );
      for (let h = 0; h < H; h++)
        for (const skip of [-1, 0]) {
          const all: { q: number; k: number; w: number }[] = [];
          for (let q = 1; q < T; q++)
            for (const e of topKeys(layer.subarray((h * T + q) * T, (h * T + q + 1) * T), n + 1))
              if (e.key !== skip) all.push({ q, k: e.key, w: e.weight });
          all.sort((a, b) => b.w - a.w || a.q - b.q || a.k - b.k);
          assert.deepEqual(strongestEdges(layer, h, T, n, 1, skip), all.slice(0, n), `T ${T} head ${h} skip ${skip}`);
        }
    }
  });
});
