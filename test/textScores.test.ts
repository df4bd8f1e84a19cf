/**
 * Head scores on the user's text (src/core/textScores.ts) against an independent float64
 * computation on TransformerLens-style patterns (test/support/attentionReference.ts): the induction
 * mask written from TransformerLens's head detector (duplicate-token mask, shifted one key to the
 * right, lower triangle), averaged over the queries it covers (Head Lens's normalisation, not
 * detect_head's division by every row); the previous-token score from the sub-diagonal; and through
 * the engine's attention run, which reports them with its patterns.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { textPatternScores } from "../src/core/textScores";
import { AttentionEvent } from "../src/protocol/attention";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionRuns, runText } from "../src/worker/runText";
import { referenceRun } from "./support/attentionReference";
import { MEDIA_DIR, REPO_ROOT, tempDir } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

/** TransformerLens's induction detection pattern (head_detector.py), with positions before `textFrom` (BOS) left out. */
function inductionMask(ids: number[], textFrom: number): number[][] {
  const dup = ids.map((a, i) => ids.map((b, j) => (i !== j && a === b && i >= textFrom && j >= textFrom ? 1 : 0)));
  // Shift every row one key to the right (the first column becomes 0), keep the lower triangle.
  return dup.map((row, i) => row.map((_, j) => (j === 0 || j > i ? 0 : row[j - 1])));
}

/** Float64 scores of one head's [T][T] pattern: the mean of each masked row's masked mass, and the mean sub-diagonal. */
function expected(pattern: number[][], ids: number[], textFrom: number): { prevToken: number | null; induction: number | null } {
  const mask = inductionMask(ids, textFrom);
  const rows = mask.map((row, i) => row.reduce((s, m, j) => s + m * pattern[i][j], 0)).filter((_, i) => mask[i].some((m) => m));
  const prev = pattern.slice(textFrom + 1).map((row, k) => row[textFrom + k]);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return { prevToken: mean(prev), induction: mean(rows) };
}

const flat = (p: number[][]) => Float32Array.from(p.flat());

describe("head scores on the text", () => {
  test("a hand-made pattern: exact previous-token and induction scores, every earlier occurrence counted", () => {
    // BOS a b a b a: the third 'a' (position 5) has two earlier occurrences (1, 3): keys 2 and 4 both count.
    const ids = [0, 7, 8, 7, 8, 7];
    const T = ids.length;
    const p = Array.from({ length: T }, () => new Array<number>(T).fill(0));
    p[0][0] = 1;
    p[1] = [0.5, 0.5, 0, 0, 0, 0];
    p[2] = [0.2, 0.8, 0, 0, 0, 0]; // previous token 0.8
    p[3] = [0.1, 0.2, 0.7, 0, 0, 0]; // 'a' again: the token after the first 'a' is key 2 (0.7); previous 0.7
    p[4] = [0.1, 0.1, 0.2, 0.6, 0, 0]; // 'b' again: key 3 (0.6); previous 0.6
    p[5] = [0, 0, 0.3, 0.1, 0.4, 0.2]; // 'a' a third time: keys 2 and 4 (0.3 + 0.4); previous 0.4
    const [got] = textPatternScores(flat(p), 1, ids, 1);
    assert.ok(Math.abs(got.prevToken! - (0.8 + 0.7 + 0.6 + 0.4) / 4) < 1e-6, `${got.prevToken}`);
    assert.ok(Math.abs(got.induction! - (0.7 + 0.6 + 0.7) / 3) < 1e-6, `${got.induction}`);
  });

  test("no repeated token: no induction score; one text token: no previous-token score", () => {
    const ids = [0, 4, 5, 6];
    const p = flat([
      [1, 0, 0, 0],
      [0.5, 0.5, 0, 0],
      [0.2, 0.3, 0.5, 0],
      [0.1, 0.2, 0.3, 0.4],
    ]);
    const [s] = textPatternScores(p, 1, ids, 1);
    assert.equal(s.induction, null);
    assert.ok(Math.abs(s.prevToken! - (0.3 + 0.3) / 2) < 1e-6);
    const [one] = textPatternScores(
      flat([
        [1, 0],
        [0.4, 0.6],
      ]),
      1,
      [0, 9],
      1,
    );
    assert.equal(one.prevToken, null);
    assert.equal(one.induction, null);
    // A BOS-coloured token in the text is an ordinary token; BOS itself is no earlier occurrence.
    const [bosLike] = textPatternScores(
      flat([
        [1, 0, 0],
        [0.5, 0.5, 0],
        [0.2, 0.3, 0.5],
      ]),
      1,
      [0, 0, 0],
      1,
    );
    assert.ok(Math.abs(bosLike.induction! - 0.5) < 1e-6, `${bosLike.induction}`);
  });

  const backendPromise = OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
  after(async () => (await backendPromise).dispose());

  for (const [seed, L, H] of [
    [51, 2, 3],
    [52, 1, 2],
  ]) {
    test(`the engine's run reports them for every head, as the float64 reference computes them (seed ${seed})`, async () => {
      const raw = randomWeights({ V: 60, D: 16, H, E: 8, L, norm: "LN", pos: "standard", seed });
      const dir = writeModelDir(join(tempDir(), "m"), raw);
      // Token ids as given (no BOS): a repeated passage with a token three times and consecutive duplicates.
      const ids = [3, 17, 5, 40, 17, 5, 40, 9, 9, 2, 3, 17, 5, 40];
      const events: AttentionEvent[] = [];
      const ctx = { emit: (e: AttentionEvent) => events.push(e), signal: new AbortController().signal, throwIfCancelled: () => undefined };
      await runText({ modelDir: dir, input: { tokens: ids }, patterns: "full" }, ctx, {
        store: new ModelStore(MEDIA_DIR),
        runs: new AttentionRuns(),
        backend: () => backendPromise,
        blockBytes: 4096,
      });
      const ref = referenceRun(loadLocalModel(dir).weights, ids);
      assert.equal(events[0].textScores.length, L);
      for (let l = 0; l < L; l++)
        for (let h = 0; h < H; h++) {
          const want = expected(ref.patterns[l][h], ids, 0);
          const got = events[0].textScores[l][h];
          assert.ok(Math.abs(got.prevToken! - want.prevToken!) < 1e-5, `L${l}H${h} previous token: ${got.prevToken} vs ${want.prevToken}`);
          assert.ok(Math.abs(got.induction! - want.induction!) < 1e-5, `L${l}H${h} induction: ${got.induction} vs ${want.induction}`);
        }
    });
  }

  test("a text run (BOS prepended by the engine) scores from the first text token on, as the float64 reference does", async () => {
    const dir = join(REPO_ROOT, "models", "demo-attn-2l");
    const text = "The river bends north past the mill. The river bends north past the mill.";
    const events: AttentionEvent[] = [];
    const ctx = { emit: (e: AttentionEvent) => events.push(e), signal: new AbortController().signal, throwIfCancelled: () => undefined };
    await runText({ modelDir: dir, input: { text }, patterns: "full" }, ctx, {
      store: new ModelStore(MEDIA_DIR),
      runs: new AttentionRuns(),
      backend: () => backendPromise,
      blockBytes: 4096,
    });
    const run = events[0].run;
    assert.notEqual(run.bos, null);
    const ids = run.tokens.map((t) => t.id);
    const ref = referenceRun(loadLocalModel(dir).weights, ids);
    for (let l = 0; l < run.nLayers; l++)
      for (let h = 0; h < run.nHeads; h++) {
        const want = expected(ref.patterns[l][h], ids, 1);
        const got = events[0].textScores[l][h];
        assert.ok(Math.abs(got.prevToken! - want.prevToken!) < 1e-5, `L${l}H${h} previous token: ${got.prevToken} vs ${want.prevToken}`);
        assert.ok(Math.abs(got.induction! - want.induction!) < 1e-5, `L${l}H${h} induction: ${got.induction} vs ${want.induction}`);
      }
  });

  test("with BOS prepended (text input), BOS is neither a query nor an earlier occurrence", () => {
    const raw = randomWeights({ V: 50, D: 16, H: 2, E: 8, L: 1, norm: null, pos: "standard", seed: 53 });
    const ids = [0, 4, 6, 4, 6, 8, 4];
    const ref = referenceRun(raw, ids);
    const got = textPatternScores(Float32Array.from(ref.patterns[0].flatMap((h) => h.flat())), 2, ids, 1);
    for (let h = 0; h < 2; h++) {
      const want = expected(ref.patterns[0][h], ids, 1);
      assert.ok(Math.abs(got[h].prevToken! - want.prevToken!) < 1e-6);
      assert.ok(Math.abs(got[h].induction! - want.induction!) < 1e-6);
    }
  });
});
