/**
 * The pure parts of the what-if UI (issue #23): the loss line's loss, each token's change in log-prob
 * (which token it colours and what its tooltip says), a head's share of the patching gap, and the
 * ablate toggle's cycle — each against values written out by hand, not against the code's own output.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NextTokenFit } from "../src/protocol/attention";
import { deltaColors, textLoss } from "../webview/attention/comparison";
import { withKind } from "../webview/attention/ablateControls";
import { percent, shareOfGap } from "../webview/patching/heatmap";
import { paletteFrom } from "../webview/shared/colors";

const fit = (logProb: number): NextTokenFit => ({ id: 1, token: "'x'", rank: 1, logProb });

test("the text's loss is the mean −log p of the actual next tokens; the last position (null) does not count", () => {
  assert.equal(textLoss([fit(-1), fit(-2), fit(-6), null]), 3);
  assert.equal(textLoss([null]), undefined);
});

test("each token is coloured by the change in its own log-prob (as the next token of the one before it)", () => {
  const light = paletteFrom(() => "", false);
  const before = [fit(-1), fit(-2), null];
  const after = [fit(-1), fit(-5), null];
  const c = deltaColors(after, before, light);
  assert.equal(c.length, 3, "one entry per token");
  assert.deepEqual(c[0], { bg: "", title: "" }, "the first token is predicted by nothing");
  assert.match(c[1].title, /-1\.000 → -1\.000 \(\+0\.000/, "token 1: unchanged");
  assert.match(c[2].title, /-2\.000 → -5\.000 \(−3\.000 under the ablation\)/, "token 2: 3 nats worse");
  assert.notEqual(c[2].bg, c[1].bg, "a change and no change differ in colour");
});

test("a head's share of the gap: (patched − corrupted) / (clean − corrupted); no gap: n/a", () => {
  assert.equal(shareOfGap(-7.636, -7.636, -9.903), 1);
  assert.equal(shareOfGap(-9.903, -7.636, -9.903), 0);
  assert.ok(Math.abs(shareOfGap(-8.7695, -7.636, -9.903) - 0.5) < 1e-12);
  assert.ok(Number.isNaN(shareOfGap(1, 2, 2)));
  assert.equal(percent(1.066), "107 %");
  assert.equal(percent(NaN), "n/a");
});

test("the ablate toggle cycles off → zero → mean → off and keeps the head's path and the other heads", () => {
  const other = { layer: 1, head: 2, kind: "zero" as const };
  const zero = withKind([other], 0, 3, "zero");
  assert.deepEqual(zero, [other, { layer: 0, head: 3, kind: "zero" }]);
  const path = [other, { layer: 0, head: 3, kind: "zero" as const, into: { layer: 1, head: 0, input: "k" as const } }];
  assert.deepEqual(withKind(path, 0, 3, "mean"), [other, { layer: 0, head: 3, kind: "mean", into: { layer: 1, head: 0, input: "k" } }]);
  assert.deepEqual(withKind(path, 0, 3, "off"), [other]);
});
