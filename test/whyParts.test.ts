/**
 * What the attention panel's Why says about a cell (src/core/whyParts.ts), on hand-made answers
 * whose expected values are written out: the ranking of terms by what they add relative to the
 * other keys (not by the raw term), the parts' totals, how each part is named with the token it
 * carries, the strongest non-BOS key, and the top sources of a logit effect.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { partAt, partText, partTotals, strongestKey, topSources, topTerms, WhyData } from "../src/core/whyParts";

// Components embed, pos, L0H0, L0H1, bias (C = 5); one key (index 0).
const components = ["embed", "pos", "L0H0", "L0H1", "bias"];
const C = components.length;
function data(cells: Record<string, [number, number]>): WhyData {
  const terms = new Float64Array(C * C),
    relative = new Float64Array(C * C);
  for (const [pair, [t, r]] of Object.entries(cells)) {
    const [a, b] = pair.split("×").map((x) => components.indexOf(x));
    terms[a * C + b] = t;
    relative[a * C + b] = r;
  }
  return { components, terms, relative, movedAtQuery: [4, 2], movedAtKeys: [[6, 5]] };
}

test("terms are ranked by what they add relative to the other keys, not by their size", () => {
  // bias×bias is the largest term but equal at every key (relative 0): it explains nothing.
  const w = data({ "bias×bias": [9, 0], "L0H0×L0H1": [2, 1.5], "embed×embed": [1, 0.5], "pos×pos": [-3, -2], "L0H1×L0H0": [0.2, 0.7] });
  const top = topTerms(w, 0, 3);
  assert.deepEqual(
    top.map((t) => `${components[t.row]}×${components[t.col]}`),
    ["L0H0×L0H1", "L0H1×L0H0", "embed×embed"],
  );
  assert.deepEqual(
    top.map((t) => t.term),
    [2, 0.2, 1],
  );
  const totals = partTotals(w, 0);
  assert.deepEqual(totals.key, [0.5, -2, 0.7, 1.5, 0]); // columns: embed, pos, L0H0, L0H1, bias
  assert.deepEqual(totals.query, [0.5, -2, 1.5, 0.7, 0]);
});

test("each part is named with the token it carries; an earlier head by the token it moved and from where", () => {
  const tok = (p: number) => `'t${p}'`;
  const w = data({});
  const q = (c: number) => partText(partAt(w.components, c, 7, w.movedAtQuery), tok);
  const k = (c: number) => partText(partAt(w.components, c, 3, w.movedAtKeys[0]), tok);
  assert.deepEqual([0, 1, 2, 3, 4].map(q), [
    "embed 't7'",
    "position 7",
    "L0H0 (moved 't4' from position 4)",
    "L0H1 (moved 't2' from position 2)",
    "bias",
  ]);
  assert.equal(k(3), "L0H1 (moved 't5' from position 5)");
  assert.deepEqual(partAt(w.components, 3, 3, w.movedAtKeys[0]).head, { layer: 0, head: 1 });
  assert.equal(partAt(w.components, 0, 3, []).carries, 3);
});

test("the strongest key leaves BOS out unless it is the only key", () => {
  const T = 4;
  // Row 2 puts most on BOS, then key 1; row 0 has BOS only.
  const weights = [1, 0, 0, 0, 0.6, 0.4, 0, 0, 0.7, 0.1, 0.2, 0, 0.1, 0.2, 0.3, 0.4];
  assert.equal(strongestKey(weights, T, 0, true), 0);
  assert.equal(strongestKey(weights, T, 1, true), 1);
  assert.equal(strongestKey(weights, T, 2, true), 2);
  assert.equal(strongestKey(weights, T, 2, false), 0);
  assert.equal(strongestKey(weights, T, 3, true), 3);
});

test("the top sources are the largest in magnitude, negative ones included", () => {
  assert.deepEqual(topSources([0.1, -0.9, 0.5, 0.05, -0.3], 3), [1, 2, 4]);
});
