/**
 * The pure parts of issue #12's UI: the badge rule, paths into a head ordered by composition, the
 * tree tooltip, path keys and their cache keys, and the sortable table's order. On demo-attn-2l
 * (the engine's real metrics): L1H0's badge says induction and the strongest K-composition — the
 * overview's top cell and L1H0's first path — is L0H3 → L1H0.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ModelMetrics, TraitScores } from "../src/core/headMetrics";
import { compositionBaseline, pathsInto, strongestComposition, strongestTrait, TRAITS, COMPOSITION_INFO } from "../src/core/headTraits";
import { compositionScores } from "../src/core/headMetrics";
import { jsMatMul } from "../src/core/kernels";
import { randomWeights } from "./support/models";
import { metricsTooltip, traitBadge } from "../src/host/extension/badges";
import { parsePathKey, pathKey } from "../src/core/heads";
import { ResultCache } from "../src/worker/resultCache";
import { Column, nextSort, sortRows } from "../webview/shared/sortableTable";
import { REPO_ROOT, testEngine } from "./support/engine";
import { referenceMetrics } from "./support/metricsReference";
import { loadLocalModel } from "../src/worker/loaders/localModel";

const engine = testEngine();
after(() => engine.dispose());

const scores = (s: Partial<TraitScores>): TraitScores => ({ copying: 0, prevToken: 0, induction: 0, duplicateToken: 0, bos: 0, ...s });

test("the badge: the trait with the highest score ÷ threshold among those that reach theirs; none when nothing does", () => {
  assert.equal(
    strongestTrait(scores({ induction: 0.895, copying: 0.868, bos: 0.51 }))?.text,
    "induction 0.90",
    "0.895 / 0.4 beats 0.868 / 0.5",
  );
  assert.equal(strongestTrait(scores({ induction: 0.41, copying: 0.9 }))?.trait.key, "copying", "0.9 / 0.5 beats 0.41 / 0.4");
  assert.equal(strongestTrait(scores({ prevToken: 0.615, copying: 0.266 }))?.text, "prev-token 0.61");
  assert.equal(strongestTrait(scores({ duplicateToken: 0.4 }))?.trait.key, "duplicateToken", "the threshold itself counts");
  assert.equal(strongestTrait(scores({ copying: 0.49, induction: 0.39, bos: 0.99 })), undefined, "BOS attention is never a badge");
  assert.equal(strongestTrait(scores({ induction: NaN, prevToken: 0.5 }))?.trait.key, "prevToken");
  // Every metric is explained in one sentence with its source.
  for (const t of TRAITS) {
    assert.doesNotMatch(t.meaning, /\.\s/, `${t.key}: one sentence`);
    assert.match(t.source, /(Elhage|Olsson) et al\. 20\d\d/, `${t.key}: its source`);
  }
  assert.match(COMPOSITION_INFO.source, /Elhage et al\. 2021/);
});

const demo = (() => {
  let m: Promise<ModelMetrics> | undefined;
  return () => (m ??= engine.metrics(join(REPO_ROOT, "models", "demo-attn-2l")).then(({ identity: _i, ...rest }) => rest));
})();

test("demo-attn-2l: L1H0's badge says induction, L0H3's prev-token; the strongest K-composition is L0H3 → L1H0 and L1H0's first path", async () => {
  const m = await demo();
  // The badges' figures, from a float64 forward pass of the raw weights on the metric sequences.
  const raw = loadLocalModel(join(REPO_ROOT, "models", "demo-attn-2l"));
  const ref = referenceMetrics(raw.weights, raw.vocab.bos).heads;
  const at = (l: number, h: number) => ref.find((x) => x.layer === l && x.head === h)!;
  assert.equal(traitBadge(m, 1, 0)!.text, `induction ${at(1, 0).induction.toFixed(2)}`);
  assert.ok(at(1, 0).induction > 0.8, "L1H0 is an induction head on the metric sequences");
  assert.equal(traitBadge(m, 0, 3)!.text, `prev-token ${at(0, 3).prevToken.toFixed(2)}`);
  assert.equal(traitBadge(m, 0, 0), undefined, "L0H0 has nothing notable");
  const k = strongestComposition(m.composition.k)!;
  assert.deepEqual(
    [k.from, k.to],
    [
      { layer: 0, head: 3 },
      { layer: 1, head: 0 },
    ],
  );
  assert.ok(Math.abs(k.score - 0.174) < 0.0015, String(k.score));
  const paths = pathsInto(m.composition, 1, 0);
  assert.deepEqual(paths[0], { layer: 0, head: 3, type: "k", score: k.score });
  assert.equal(paths.length, 4 * 3, "every earlier head, through Q, K and V");
  assert.ok(
    paths.every((p, i) => i === 0 || paths[i - 1].score >= p.score),
    "strongest first",
  );
  assert.deepEqual(pathsInto(m.composition, 0, 2), [], "a layer-0 head reads only the embeddings");
  const tip = metricsTooltip(m, 1, 0, 128);
  assert.ok(tip.includes(`strongest trait: **induction ${at(1, 0).induction.toFixed(2)}**`), tip);
  for (const t of TRAITS) assert.match(tip, new RegExp(`\\| ${t.label} \\| -?\\d\\.\\d{3} \\|`), t.label);
  assert.match(tip, /Strongest compositions into L1H0: K L0H3 0\.17\d/);
  assert.match(metricsTooltip(m, 0, 3, 128), /Strongest compositions out of L0H3: K L1H0 0\.17\d/);
  assert.match(metricsTooltip(m, 0, 0, 128), /no trait reaches its threshold \(no badge\)/);
  // Against the random baseline 1/√128 = 0.0884: 0.174 is 2.0×; and what K-composition means.
  assert.match(tip, /K L0H3 0\.17\d \(2\.0×\)/);
  assert.match(tip, /random baseline 1\/√d_model = 0\.088 .*K-composition: how much L1H0's keys read what L0H3 writes\./);
});

test("the overview's random baseline is what our composition scores give on independent random weights", async () => {
  // 2 layers × 8 heads, d_model 64, d_head 8: 64 pairs per mode, each ≈ 1/√64 = 0.125.
  const w = randomWeights({ V: 16, D: 64, H: 8, E: 8, L: 2, norm: null, seed: 3 });
  for (const mode of ["q", "k", "v"] as const) {
    const t = await compositionScores(w, mode, jsMatMul);
    const pairs = t[0].flatMap((from) => from[1]);
    const mean = pairs.reduce((a, b) => a + b, 0) / pairs.length;
    assert.ok(Math.abs(mean / compositionBaseline(64) - 1) < 0.05, `${mode}: mean ${mean.toFixed(4)} vs ${compositionBaseline(64)}`);
  }
});

test("a path is its own result: its key round-trips and its cache key differs from the direct path's and from other paths'", () => {
  const via = { layer: 0, head: 3, type: "k" as const };
  assert.equal(pathKey(via), "0:3:k");
  assert.deepEqual(parsePathKey("0:3:k"), via);
  assert.equal(pathKey(undefined), "");
  assert.equal(parsePathKey(""), undefined);
  assert.equal(parsePathKey("0:3:x"), undefined);
  const id = { model: "m", prior: "uniform" },
    sizes = { nKeys: 5, nQueries: 20, nOutputs: 20 };
  const keys = new Set([
    ResultCache.key(id, sizes),
    ResultCache.key(id, sizes, via),
    ResultCache.key(id, sizes, { ...via, type: "q" }),
    ResultCache.key(id, sizes, { ...via, head: 2 }),
  ]);
  assert.equal(keys.size, 4);
});

interface Row {
  layer: number;
  head: number;
  rank: number;
  score: number;
  name: string;
}
const COLS: Column<Row>[] = [
  { key: "head", title: "Head", help: "", firstDir: "asc", value: (r) => r.layer * 1e4 + r.head, text: (r) => `L${r.layer}H${r.head}` },
  { key: "rank", title: "Rank", help: "", firstDir: "asc", value: (r) => r.rank, text: (r) => String(r.rank), numeric: true },
  { key: "score", title: "Score", help: "", firstDir: "desc", value: (r) => r.score, text: (r) => String(r.score), numeric: true },
  { key: "name", title: "Name", help: "", firstDir: "asc", value: (r) => r.name, text: (r) => r.name },
];

test("the sortable table sorts by every column both ways; ties keep head order; missing values go last", () => {
  const rows: Row[] = [
    { layer: 0, head: 0, rank: 7, score: 1.5, name: "b" },
    { layer: 0, head: 1, rank: 2, score: NaN, name: "a10" },
    { layer: 1, head: 0, rank: 7, score: 3, name: "a9" },
  ];
  const heads = (r: Row[]) => r.map((x) => `L${x.layer}H${x.head}`);
  assert.deepEqual(heads(sortRows(rows, COLS, { key: "rank", dir: "asc" })), ["L0H1", "L0H0", "L1H0"]);
  assert.deepEqual(heads(sortRows(rows, COLS, { key: "rank", dir: "desc" })), ["L0H0", "L1H0", "L0H1"], "ties keep head order");
  assert.deepEqual(heads(sortRows(rows, COLS, { key: "score", dir: "desc" })), ["L1H0", "L0H0", "L0H1"]);
  assert.deepEqual(heads(sortRows(rows, COLS, { key: "score", dir: "asc" })), ["L0H0", "L1H0", "L0H1"], "NaN last either way");
  assert.deepEqual(heads(sortRows(rows, COLS, { key: "name", dir: "asc" })), ["L1H0", "L0H1", "L0H0"], "numeric-aware text order");
  assert.deepEqual(
    nextSort({ key: "rank", dir: "asc" }, COLS[2]),
    { key: "score", dir: "desc" },
    "a new column sorts its natural way first",
  );
  assert.deepEqual(nextSort({ key: "score", dir: "desc" }, COLS[2]), { key: "score", dir: "asc" }, "the same column flips");
});
