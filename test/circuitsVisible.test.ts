/**
 * Issue #12's figures against independent float64 references on unseen models (dense matrices,
 * a naive forward pass), and on demo-attn-2l the circuit a user must be able to see:
 * L0H3 (previous token) → K-composition → L1H0 (induction).
 */
import { test, after, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { complexEigenvalues } from "../src/core/eig";
import { copyingScore, metricSequences } from "../src/core/headMetrics";
import { processWeights } from "../src/core/processing";
import { PathRef } from "../src/core/report";
import { ModelWeights } from "../src/core/weights";
import { denseOracle } from "./support/denseOracle";
import { referenceRun } from "./support/attentionReference";
import { compositionScore64, diagonalRanks64, pathMatrices64, tokenOV64 } from "./support/pathOracle";
import { REPO_ROOT, tempDir, testEngine } from "./support/engine";
import { randomWeights, RandomModelSpec, writeModelDir } from "./support/models";

const engine = testEngine();
after(() => engine.dispose());
const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

function model(spec: RandomModelSpec): { dir: string; raw: ModelWeights; w: ModelWeights } {
  const raw = randomWeights(spec);
  return { dir: writeModelDir(join(tempDir(), "m"), raw), raw, w: processWeights(raw) };
}

describe("head metrics equal independent references", () => {
  for (const [norm, pos] of [
    ["LN", "standard"],
    [null, "standard"],
    ["LN", "shortformer"],
  ] as const) {
    test(`copying, composition and attention-pattern scores (${norm ?? "no"} norm, ${pos} positions, 3 layers)`, async () => {
      const { dir, raw, w } = model({ V: 90, D: 24, H: 3, E: 8, L: 3, norm, pos, seed: 71, bos: 0 });
      const m = await engine.metrics(dir);
      const { d_vocab: V, n_heads: H, n_layers: L } = w.config;
      // The metric sequences, run through a naive float64 forward pass of the raw (unprocessed) weights.
      const { tokens, repeat } = metricSequences(V, 0, raw.config.n_ctx);
      const runs = tokens.map((t) => referenceRun(raw, t).patterns);
      const mean = (l: number, h: number, rows: number[], col: (i: number) => number) =>
        runs.reduce((s, p) => s + rows.reduce((a, i) => a + p[l][h][i][col(i)], 0) / rows.length, 0) / runs.length;
      const T = 2 * repeat + 1,
        range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
      for (const hm of m.heads) {
        const { layer: l, head: h } = hm;
        const ov = tokenOV64(w, l, h); // V × V, eigenvalues of the dense matrix (no cyclic identity)
        near(hm.copying, copyingScore(complexEigenvalues(ov, V)), 1e-3, `copying L${l}H${h}`);
        near(
          hm.prevToken,
          mean(l, h, range(2, T), (i) => i - 1),
          1e-4,
          `prev-token L${l}H${h}`,
        );
        near(
          hm.induction,
          mean(l, h, range(repeat + 1, T), (i) => i - repeat + 1),
          1e-4,
          `induction L${l}H${h}`,
        );
        near(
          hm.duplicateToken,
          mean(l, h, range(repeat + 1, T), (i) => i - repeat),
          1e-4,
          `duplicate L${l}H${h}`,
        );
        near(
          hm.bos,
          mean(l, h, range(1, T), () => 0),
          1e-4,
          `bos L${l}H${h}`,
        );
      }
      for (const mode of ["q", "k", "v"] as const)
        for (let l1 = 0; l1 < L; l1++)
          for (let h1 = 0; h1 < H; h1++)
            for (let l2 = 0; l2 < L; l2++)
              for (let h2 = 0; h2 < H; h2++) {
                const got = m.composition[mode][l1][h1][l2][h2];
                if (l1 >= l2) assert.equal(got, 0, "zero unless l1 < l2");
                else {
                  const want = compositionScore64(w, l1, h1, l2, h2, mode);
                  assert.ok(Math.abs(got - want) <= 1e-3 * want, `${mode} L${l1}H${h1}→L${l2}H${h2}: ${got} vs ${want}`);
                }
              }
    });
  }
});

describe("composition paths equal the dense path matrices", () => {
  const sizes = { nKeys: 4, nQueries: 6, nOutputs: 6 };
  for (const type of ["k", "q", "v"] as const) {
    test(`${type} path: keys, queries, outputs and the diagonal`, async () => {
      const { dir, w } = model({ V: 160, D: 20, H: 2, E: 6, L: 2, seed: 80 + type.charCodeAt(0), bos: 0 });
      const via: PathRef = { layer: 0, head: 1, type };
      const [r] = await engine.analyze({ modelDir: dir, heads: [{ layer: 1, head: 0 }], priors: "uniform", sizes, via });
      assert.deepEqual(r.via, via);
      const V = w.config.d_vocab,
        pw = 1 / V ** 0.1;
      const { qk, ov } = pathMatrices64(w, 1, 0, via, 0);
      const col = (k: number) => Array.from({ length: V }, (_, q) => qk![q * V + k]);
      const row = (k: number) => Array.from(ov!.subarray(k * V, (k + 1) * V));
      const imp = Array.from({ length: V }, (_, k) => (qk ? Math.max(...col(k)) : 1) * (ov ? Math.max(...row(k)) : 1) * pw);
      const top = (v: number[], n: number) =>
        v
          .map((x, i) => [x, i])
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, n)
          .map((x) => x[1]);
      assert.deepEqual(
        r.keys.map((k) => k.id),
        top(imp, sizes.nKeys),
        "keys",
      );
      for (const k of r.keys) {
        near(k.importance, imp[k.id], 1e-4 * Math.abs(imp[k.id]) + 1e-9, "importance");
        if (qk) {
          assert.deepEqual(
            k.queries.map((q) => q.id),
            top(col(k.id), sizes.nQueries),
            `queries of ${k.id}`,
          );
          k.queries.forEach((q) => near(q.score, qk[q.id * V + k.id], 1e-4, "query score"));
        } else assert.deepEqual(k.queries, []);
        if (ov) {
          assert.deepEqual(
            k.outputs.map((o) => o.id),
            top(row(k.id), sizes.nOutputs),
            `outputs of ${k.id}`,
          );
          k.outputs.forEach((o) => near(o.score, ov[k.id * V + o.id], 1e-4, "output score"));
        } else assert.deepEqual(k.outputs, []);
      }
      if (qk) {
        const ranks = Array.from(diagonalRanks64(qk, V)).sort((a, b) => a - b);
        assert.deepEqual(
          r.diagonal,
          {
            medianRank: ranks[Math.floor((V - 1) / 2)],
            top1: ranks.filter((x) => x === 0).length / V,
            top10: ranks.filter((x) => x < 10).length / V,
          },
          "diagonal, exactly",
        );
      } else assert.equal(r.diagonal, undefined);
    });
  }
});

test("a token's key rank in every head is exact (the dense float64 ranking)", async () => {
  const { dir, w } = model({ V: 300, D: 24, H: 2, E: 8, L: 2, seed: 91, bos: 0 });
  const V = w.config.d_vocab,
    prior = new Float64Array(V).fill(1 / V);
  const oracle = denseOracle(w, 1, 1, 0, prior, { nKeys: V, nQueries: 0, nOutputs: 0 }, String);
  const order = oracle.report.keys.map((k) => k.id);
  for (const rank of [0, 1, 7, 150, 299]) {
    const r = await engine.token({ modelDir: dir, priors: "uniform", token: { id: order[rank] }, n: 3 });
    const h = r.heads.find((x) => x.layer === 1 && x.head === 1)!;
    assert.equal(h.keyRank, rank, `token ranked ${rank} by the oracle`);
    near(h.importance, oracle.importance[order[rank]], 1e-6 * Math.abs(oracle.importance[order[rank]]), "importance");
    assert.equal(r.heads.length, 4);
    assert.ok(
      r.heads.every((x, i) => i === 0 || r.heads[i - 1].keyRank <= x.keyRank),
      "sorted by key rank",
    );
  }
});

test("the hover says the token table's key rank: one meaning, 0 = the head's most important key", async () => {
  const { dir, w } = model({ V: 300, D: 24, H: 2, E: 8, L: 2, seed: 92, bos: 0 });
  const V = w.config.d_vocab;
  const order = denseOracle(w, 1, 1, 0, new Float64Array(V).fill(1 / V), { nKeys: V, nQueries: 0, nOutputs: 0 }, String).report.keys.map(
    (k) => k.id,
  );
  const head = { layer: 1, head: 1 };
  await engine.analyze({ modelDir: dir, heads: [head], priors: "uniform", sizes: { nKeys: 3, nQueries: 0, nOutputs: 0 } });
  // GPT-2's ids 0–93 are the printable characters "!"…"~": text a hover can be asked about.
  const printable = order.filter((id) => id < 94);
  for (const id of [printable[0], printable[1], printable[20], printable[printable.length - 1]]) {
    const hover = await engine.hover({ modelDir: dir, priors: "uniform", text: String.fromCharCode(33 + id), maxTokens: 1, head, n: 1 });
    assert.equal(hover.tokens[0].id, id);
    const table = (await engine.token({ modelDir: dir, priors: "uniform", token: { id }, n: 1 })).heads.find(
      (h) => h.layer === 1 && h.head === 1,
    )!;
    assert.deepEqual(
      [hover.inHead?.keyRank, hover.inHead?.keyRankMax, table.keyRank],
      [order.indexOf(id), undefined, order.indexOf(id)],
      `token ${id}`,
    );
  }
});

test("demo-attn-2l: L0H3 → L1H0 is the strongest K-composition, L1H0 is an induction head, its path shows the diagonal", async () => {
  const dir = join(REPO_ROOT, "models", "demo-attn-2l");
  const m = await engine.metrics(dir);
  let best = { v: -1, at: "" };
  m.composition.k.forEach((a, l1) =>
    a.forEach((b, h1) => b.forEach((row, l2) => row.forEach((v, h2) => v > best.v && (best = { v, at: `L${l1}H${h1}→L${l2}H${h2}` })))),
  );
  assert.equal(best.at, "L0H3→L1H0");
  const l1h0 = m.heads.find((h) => h.layer === 1 && h.head === 0)!;
  assert.ok(l1h0.induction > 0.8 && l1h0.induction > l1h0.prevToken && l1h0.induction > l1h0.duplicateToken, `induction ${l1h0.induction}`);
  assert.ok(l1h0.copying > 0.8, `copying ${l1h0.copying}`);
  assert.ok(m.heads.find((h) => h.layer === 0 && h.head === 3)!.prevToken > 0.5);
  const [path] = await engine.analyze({
    modelDir: dir,
    heads: [{ layer: 1, head: 0 }],
    priors: "bundled",
    sizes: { nKeys: 3, nQueries: 5, nOutputs: 5 },
    via: { layer: 0, head: 3, type: "k" },
  });
  assert.ok(path.diagonal!.medianRank <= 100, `median rank ${path.diagonal!.medianRank}`);
});
