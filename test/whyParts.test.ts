/**
 * What the attention panel's Why says about a cell, on hand-made answers whose expected values are
 * written out: terms ranked by what they add relative to the other keys (not by their size) and the
 * key-side totals (core/whyText.ts, the CLI's words too); each part's link target — the earlier head
 * and the position of the token it moved — the strongest non-BOS key a Why opens on, and the top
 * sources of a logit effect (core/whyParts.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { partAt, strongestNonBosKey, topSources } from "../src/core/whyParts";
import { keySideTotals, partLabel, topTerms, WhyView } from "../src/core/whyText";

// Components embed, pos, L0H0, L0H1, bias (C = 5), one key.
const components = ["embed", "pos", "L0H0", "L0H1", "bias"];
const C = components.length;
function cells(values: Record<string, [number, number]>): { terms: Float64Array; relative: Float64Array } {
  const terms = new Float64Array(C * C),
    relative = new Float64Array(C * C);
  for (const [pair, [t, r]] of Object.entries(values)) {
    const [a, b] = pair.split("×").map((x) => components.indexOf(x));
    terms[a * C + b] = t;
    relative[a * C + b] = r;
  }
  return { terms, relative };
}

test("terms are ranked by what they add relative to the other keys, not by their size", () => {
  // Made-up figures: a bias×bias term that is the largest but equal at every key (relative 0) explains nothing.
  const { terms, relative } = cells({
    "bias×bias": [9, 0],
    "L0H0×L0H1": [2, 1.5],
    "embed×embed": [1, 0.5],
    "pos×pos": [-3, -2],
    "L0H1×L0H0": [0.2, 0.7],
  });
  const top = topTerms(terms, relative, C, 3);
  assert.deepEqual(
    top.map((t) => `${components[t.q]}×${components[t.k]}`),
    ["L0H0×L0H1", "L0H1×L0H0", "embed×embed"],
  );
  assert.deepEqual(
    top.map((t) => t.term),
    [2, 0.2, 1],
  );
  assert.deepEqual(keySideTotals(relative, C), [0.5, -2, 0.7, 1.5, 0]); // columns: embed, pos, L0H0, L0H1, bias
});

test("each part is named with the token it carries, and an earlier head's part links to that head, where it sits and what it moved", () => {
  const view: WhyView = {
    tokens: ["⟨bos⟩", "'a'", "'b'", "'c'", "'d'", "'e'", "'f'", "'g'"],
    components,
    movedAtQuery: [4, 7],
    movedAtKey: [2, 3],
    query: 7,
    key: 3,
  };
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((c) => partLabel(view, c, "query")),
    ["embed ('g')", "pos (position 7)", "L0H0 (moved 'd' from position 4)", "L0H1 ('g')", "bias"],
  );
  assert.equal(partLabel(view, 2, "key"), "L0H0 (moved 'b' from position 2)");
  assert.deepEqual(partAt(components, 2, 3, view.movedAtKey), {
    kind: "head",
    component: "L0H0",
    position: 3,
    carries: 2,
    head: { layer: 0, head: 0 },
  });
  assert.deepEqual(partAt(components, 0, 7, view.movedAtQuery), { kind: "embed", component: "embed", position: 7, carries: 7 });
  assert.equal(partAt(components, 4, 7, view.movedAtQuery).kind, "bias");
});

test("the strongest key leaves BOS out unless it is the only key", () => {
  const T = 4;
  // Row 2 puts most on BOS, then key 2; row 0 has BOS only.
  const weights = [1, 0, 0, 0, 0.6, 0.4, 0, 0, 0.7, 0.1, 0.2, 0, 0.1, 0.2, 0.3, 0.4];
  assert.equal(strongestNonBosKey(weights, T, 0, true), 0);
  assert.equal(strongestNonBosKey(weights, T, 1, true), 1);
  assert.equal(strongestNonBosKey(weights, T, 2, true), 2);
  assert.equal(strongestNonBosKey(weights, T, 2, false), 0);
  assert.equal(strongestNonBosKey(weights, T, 3, true), 3);
});

test("the top sources are the largest in magnitude, negative ones included", () => {
  assert.deepEqual(topSources([0.1, -0.9, 0.5, 0.05, -0.3], 3), [1, 2, 4]);
});
