/**
 * What the timeline panel derives from checkpoints (src/core/timelineFigures.ts), on hand-made
 * checkpoints whose answers are written out here: the strongest composition pairs by their peak,
 * badges gained / lost / changed under the badge rule, the heads whose metrics moved most, and the
 * labels as the axis writes them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CheckpointFigures, checkpointDiff, formatLabel, logSplits, strongestPairs, TimelineHeadScores } from "../src/core/timelineFigures";
import type { CompositionScores } from "../src/core/headMetrics";

const head = (layer: number, h: number, s: Partial<TimelineHeadScores> = {}): TimelineHeadScores => ({
  layer,
  head: h,
  prevToken: 0.05,
  induction: 0.01,
  duplicateToken: 0.01,
  bos: 0.2,
  ...s,
});

/** A 2-layer, 2-head composition table with `k[0][h1][1][h2]` = scores[h1][h2]. */
function comp(scores: number[][]): CompositionScores {
  return [0, 1].map((l1) => [0, 1].map((h1) => [0, 1].map((l2) => [0, 1].map((h2) => (l1 === 0 && l2 === 1 ? scores[h1][h2] : 0)))));
}

const zero = comp([
  [0, 0],
  [0, 0],
]);
function checkpoint(label: number, heads: TimelineHeadScores[], k: number[][]): CheckpointFigures {
  return { label, heads, composition: { q: zero, k: comp(k), v: zero } };
}

test("strongest pairs: ranked by their peak over the checkpoints, with every checkpoint's score", () => {
  const cps = [
    checkpoint(
      0,
      [],
      [
        [0.1, 0.2],
        [0.05, 0.3],
      ],
    ),
    checkpoint(
      10,
      [],
      [
        [0.5, 0.1],
        [0.05, 0.25],
      ],
    ),
  ];
  const pairs = strongestPairs(cps, "k", 3);
  assert.deepEqual(
    pairs.map((p) => [p.name, p.peak, p.scores]),
    [
      ["L0H0 → L1H0", 0.5, [0.1, 0.5]],
      ["L0H1 → L1H1", 0.3, [0.3, 0.25]],
      ["L0H0 → L1H1", 0.2, [0.2, 0.1]],
    ],
  );
  assert.equal(strongestPairs(cps, "k", 0).length, 0);
  assert.equal(strongestPairs(cps, "k", 10).length, 4, "only earlier → later pairs");
});

test("the diff: badges gained, lost and changed (the badge rule), heads by how far their metrics moved", () => {
  const a = checkpoint(
    100,
    [head(0, 0, { prevToken: 0.45 }), head(0, 1), head(1, 0, { duplicateToken: 0.5 }), head(1, 1, { induction: 0.3 })],
    [
      [0, 0],
      [0, 0],
    ],
  );
  const b = checkpoint(
    2000,
    [
      head(0, 0, { prevToken: 0.2 }),
      head(0, 1, { prevToken: 0.6 }),
      head(1, 0, { duplicateToken: 0.5, induction: 0.9 }),
      head(1, 1, { induction: 0.35 }),
    ],
    [
      [0, 0],
      [0, 0],
    ],
  );
  const d = checkpointDiff(a, b);
  assert.deepEqual(
    d.badges.map((c) => [`L${c.head.layer}H${c.head.head}`, c.kind, c.before?.label ?? "-", c.after?.label ?? "-"]),
    [
      ["L0H0", "lost", "prev-token", "-"],
      ["L0H1", "gained", "-", "prev-token"],
      ["L1H0", "changed", "duplicate", "induction"],
    ],
    "L1H1 rose but stays below 0.4: no badge either side",
  );
  assert.deepEqual(
    d.moved.map((m) => [`L${m.head.layer}H${m.head.head}`, m.metric, Number(m.largest.toFixed(6))]),
    [
      ["L1H0", "induction", 0.89],
      ["L0H1", "prevToken", 0.55],
      ["L0H0", "prevToken", 0.25],
      ["L1H1", "induction", 0.05],
    ],
  );
  assert.equal(d.moved[0].delta.copying, undefined, "no copying in light checkpoints");
  assert.ok(Math.abs(d.moved[0].delta.induction! - 0.89) < 1e-12);
});

test("copying counts for badges and moves only when both checkpoints have it", () => {
  const none = [
    [0, 0],
    [0, 0],
  ];
  const a = checkpoint(1, [head(0, 0, { copying: 0.1 })], none);
  const b = checkpoint(2, [head(0, 0, { copying: 0.8 })], none);
  const d = checkpointDiff(a, b);
  assert.deepEqual(
    d.badges.map((c) => [c.kind, c.after?.label]),
    [["gained", "copying"]],
  );
  assert.equal(d.moved[0].metric, "copying");
});

test("labels as the axis writes them", () => {
  assert.deepEqual([0, 4, 950, 1000, 4096, 8192, 12_500, 3_400_000, 1_234_567_890, 999_999].map(formatLabel), [
    "0",
    "4",
    "950",
    "1k",
    "4.1k",
    "8.19k",
    "12.5k",
    "3.4M",
    "1.23B",
    "1M",
  ]);
});

test("the log axis's ticks: 0, then powers of ten from the smallest positive label (2× and 5× over under two decades)", () => {
  assert.deepEqual(logSplits(0, 9000, 4), [0, 10, 100, 1000]);
  assert.deepEqual(logSplits(0, 1.2e10, 1e9), [0, 1e9, 2e9, 5e9, 1e10]);
  assert.deepEqual(logSplits(100, 5000, 128), [200, 500, 1000, 2000, 5000]);
  assert.deepEqual(logSplits(0, 0, 1), [0], "one checkpoint, label 0");
});
