import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir, testEngine } from "./support/engine";
import { RandomModelSpec, randomWeights, trainedLikeWeights, writeModelDir } from "./support/models";
import { ModelWeights } from "../src/core/weights";
import { processWeights } from "../src/core/processing";
import { priorWeights } from "../src/core/selection";
import { analyzeHeadDense } from "../src/worker/denseStrategy";
import { HeadJob } from "../src/worker/headJob";
import { tokenInHead } from "../src/worker/tokenInHead";
import { importanceRounding, keyFigures } from "../src/worker/keyRank";
import { denseOracle } from "./support/denseOracle";
import { HeadAnalysis } from "../src/worker/headJob";
import { analyzeHeadPruned } from "../src/worker/prunedStrategy";
import { OrtBackend } from "../src/worker/ortBackend";
import { uniformPrior } from "../src/worker/loaders/priors";

const engine = testEngine();
after(() => engine.dispose());
const sizes = { nKeys: 5, nQueries: 8, nOutputs: 8 };
/** Head 0:0 of processed weights under the uniform prior. */
function headJob(w: ModelWeights): HeadJob {
  const prior = uniformPrior(w.config.d_vocab).p;
  const base = { modelName: "m", weights: w, bos: 0, layer: 0, head: 0, priorSource: "uniform", label: String, byteLength: () => 1 };
  return { ...base, prior, priorW: priorWeights(prior), sizes };
}

/** Every key's importance of head 0:0 in float64, from the naive dense circuits. */
function oracleImportance(w: ModelWeights): Float64Array {
  const V = w.config.d_vocab;
  return denseOracle(w, 0, 0, 0, uniformPrior(V).p, { nKeys: 0, nQueries: 0, nOutputs: 0 }, String).importance;
}

/** What the hover ranks against after an analysis: its intervals and their rounding bound. */
const ranks = async (a: HeadAnalysis, priorW: Float64Array) => ({
  intervals: a.importance,
  rounding: (await importanceRounding(a.circuits, priorW)).loose,
});

/** Dense and pruned reports of every head: same ids in the same order, scores within 1e-5. */
async function assertSameReports(dir: string): Promise<void> {
  const req = { modelDir: dir, heads: "all" as const, priors: "uniform" as const, sizes };
  const [dense, pruned] = [await engine.analyze({ ...req, strategy: "dense" }), await engine.analyze({ ...req, strategy: "pruned" })];
  const { n_layers, n_heads } = (await engine.describe(dir)).config!;
  assert.equal(dense.length, n_layers * n_heads, "every head, dense");
  assert.equal(pruned.length, dense.length, "every head, pruned");
  dense.forEach((d, i) => {
    const p = pruned[i];
    assert.deepEqual([p.layer, p.head], [d.layer, d.head]);
    // The sizes asked for (every model here has far more tokens), not the other strategy's lists, set the lengths.
    assert.equal(d.keys.length, sizes.nKeys, `head ${d.layer}:${d.head}: ${sizes.nKeys} keys`);
    for (const k of d.keys) assert.deepEqual([k.queries.length, k.outputs.length], [sizes.nQueries, sizes.nOutputs]);
    assert.deepEqual(
      p.keys.map((k) => k.id),
      d.keys.map((k) => k.id),
      `head ${d.layer}:${d.head} keys`,
    );
    d.keys.forEach((k, j) => {
      const q = p.keys[j];
      assert.ok(Math.abs(q.importance - k.importance) <= 1e-5 * Math.abs(k.importance), "importance");
      assert.deepEqual(
        q.queries.map((x) => x.id),
        k.queries.map((x) => x.id),
      );
      assert.deepEqual(
        q.outputs.map((x) => x.id),
        k.outputs.map((x) => x.id),
      );
    });
  });
}

function model(spec: RandomModelSpec, mutate?: (w: ModelWeights) => void): string {
  const w = randomWeights(spec);
  mutate?.(w);
  return writeModelDir(join(tempDir(), "m"), w, "F32");
}

describe("the pruned strategy returns exactly the dense report", () => {
  test("random models of several shapes", async () => {
    await assertSameReports(model({ V: 3000, D: 48, H: 2, E: 16, L: 1, seed: 11 }));
    await assertSameReports(model({ V: 6000, D: 32, H: 2, E: 8, L: 2, norm: null, pos: "shortformer", seed: 12 }));
  });
  test("adversarial: all keys nearly equal (identical embeddings up to tiny noise)", async () => {
    await assertSameReports(
      model({ V: 2000, D: 32, H: 2, E: 8, L: 1, seed: 13 }, (w) => {
        const D = 32;
        for (let v = 1; v < 2000; v++) for (let d = 0; d < D; d++) w.W_E.data[v * D + d] = w.W_E.data[D + d] + 1e-4 * Math.sin(v * 7 + d);
      }),
    );
  });
  test("adversarial: heavy ties (embeddings repeat in groups) and a single outlier", async () => {
    await assertSameReports(
      model({ V: 2500, D: 32, H: 2, E: 8, L: 1, seed: 14 }, (w) => {
        const D = 32;
        for (let v = 0; v < 2500; v++) for (let d = 0; d < D; d++) w.W_E.data[v * D + d] = w.W_E.data[(v % 50) * D + d];
        for (let d = 0; d < D; d++) w.W_E.data[1234 * D + d] *= 25; // one outlier token
      }),
    );
  });
  test("trained-like weights (log-normal norms, outliers, decaying spectra; the cheap bounds settle them)", async () => {
    for (const [seed, extra] of [
      [15, {}],
      [16, { embedSigma: 0, unembedSigma: 0, outliers: 0 }],
      [17, { embedSigma: 1, unembedSigma: 1, decay: 4 }],
    ] as const) {
      const w = trainedLikeWeights({ V: 4000, D: 48, H: 2, E: 16, L: 1, seed, ...extra });
      await assertSameReports(writeModelDir(join(tempDir(), "m"), w, "F32"));
    }
  });
  test("property: many seeds", async () => {
    for (let seed = 100; seed < 112; seed++) {
      await assertSameReports(
        model({ V: 600 + 97 * (seed % 5), D: 24, H: 1, E: 4 + (seed % 3) * 4, L: 1, norm: seed % 2 ? "LN" : null, seed }),
      );
    }
  });
});

describe("the pruning itself (no dense fallback)", () => {
  const run = async (w: ModelWeights) => {
    const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
    const processed = processWeights(w);
    const out: { evaluated: number; V: number; int8Rows: unknown[] }[] = [];
    for (let head = 0; head < w.config.n_heads; head++) {
      const job = { ...headJob(processed), head };
      const ctl = { check: () => {}, blockBytes: 1 << 20 };
      const d = await analyzeHeadDense(backend, job, ctl);
      const p = await analyzeHeadPruned(backend, job, ctl, { batch: 16, fallbackShare: 1 });
      assert.equal(p.stats.fellBack, false);
      assert.deepEqual(
        p.report.keys.map((k) => k.id),
        d.report.keys.map((k) => k.id),
        `head ${head}`,
      );
      assert.deepEqual(
        p.report.keys.map((k) => k.queries.map((q) => q.id)),
        d.report.keys.map((k) => k.queries.map((q) => q.id)),
      );
      out.push({ evaluated: p.stats.evaluated, V: w.config.d_vocab, int8Rows: p.stats.int8Rows });
    }
    await backend.dispose();
    return out;
  };
  test("random models: the stopping rule keeps exactly the dense keys", async () => {
    for (const seed of [21, 22, 23]) await run(randomWeights({ V: 1500, D: 32, H: 2, E: 8, L: 1, seed }));
  });
  test("random isotropic weights (the hard case for geometric bounds): the int8 bounds skip most keys", async () => {
    const stats = await run(randomWeights({ V: 8000, D: 64, H: 2, E: 32, L: 1, seed: 41 }));
    for (const s of stats)
      assert.ok(
        s.evaluated < 0.1 * s.V && s.int8Rows.length > 0,
        `evaluated ${s.evaluated} of ${s.V} keys after int8 passes ${JSON.stringify(s.int8Rows)}`,
      );
  });
  test("trained-like weights: the cheap bounds alone leave few keys, no int8 pass runs", async () => {
    const stats = await run(trainedLikeWeights({ V: 8000, D: 64, H: 2, E: 32, L: 1, seed: 42 }));
    for (const s of stats)
      assert.ok(
        s.evaluated < 0.02 * s.V && s.int8Rows.length === 0,
        `evaluated ${s.evaluated} of ${s.V} keys, int8 passes ${JSON.stringify(s.int8Rows)}`,
      );
  });
  test("structured embeddings (tokens in tight clusters): most keys are skipped", async () => {
    const w = randomWeights({ V: 4000, D: 32, H: 2, E: 8, L: 1, seed: 31 });
    const D = 32;
    for (let v = 0; v < 4000; v++)
      for (let d = 0; d < D; d++)
        w.W_E.data[v * D + d] = w.W_E.data[(v % 40) * D + d] * (1 + 0.02 * Math.sin(v + d)) * (v % 97 === 0 ? 3 : 1);
    const stats = await run(w);
    for (const s of stats) assert.ok(s.evaluated < 0.5 * s.V, `evaluated ${s.evaluated} of ${s.V} keys`);
  });
});

for (const [kind, make] of [
  ["random", randomWeights],
  ["trained-like", trainedLikeWeights],
] as const)
  test(`hover ranks after a pruned analysis are the dense ranks (or a range holding them): ${kind} weights`, async () => {
    const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
    const w = processWeights(make({ V: 3000, D: 32, H: 1, E: 16, L: 1, seed: 51 }));
    const job = headJob(w);
    const ctl = { check: () => {}, blockBytes: 1 << 20 };
    const d = await analyzeHeadDense(backend, job, ctl);
    const p = await analyzeHeadPruned(backend, job, ctl, { fallbackShare: 1 });
    assert.equal(p.stats.fellBack, false);
    // The expected ranks: float64 importances of the dense V × V circuits (an independent oracle).
    const exact = oracleImportance(w);
    const byImportance = Array.from(exact.keys()).sort((a, b) => exact[b] - exact[a] || a - b);
    let ranges = 0;
    for (const rank of [1, 2, 5, 40, 400, 1500, 2999]) {
      const token = byImportance[rank - 1];
      const dense = tokenInHead(d.circuits, token, 0, 0, job.priorW, 3, String, await ranks(d, job.priorW));
      const pruned = tokenInHead(p.circuits, token, 0, 0, job.priorW, 3, String, await ranks(p, job.priorW));
      // The token ranked `rank` (1-based here) has key rank rank − 1 (0 = the most important key).
      assert.equal(dense.keyRank, rank - 1, `dense rank of the token ranked ${rank}`);
      if (pruned.keyRankMax === undefined) assert.equal(pruned.keyRank, rank - 1, `pruned rank of the token ranked ${rank}`);
      else {
        ranges++;
        assert.ok(
          pruned.keyRank! <= rank - 1 && rank - 1 <= pruned.keyRankMax,
          `rank ${rank - 1} in [${pruned.keyRank}, ${pruned.keyRankMax}]`,
        );
      }
    }
    assert.ok(ranges < 7, "top ranks are exact");
    await backend.dispose();
  });

test("hover ranks are exact when keys' importances differ by less than float32 can tell (near-duplicate tokens)", async () => {
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
  const V = 600,
    D = 32;
  const raw = randomWeights({ V, D, H: 1, E: 16, L: 1, seed: 61 });
  // Tokens 300..599 copy tokens 0..299 with a relative change far below float32's resolution of
  // their importances, so float32 passes see ties (or the wrong order) where float64 does not.
  for (let v = 300; v < V; v++)
    for (let d = 0; d < D; d++) raw.W_E.data[v * D + d] = raw.W_E.data[(v - 300) * D + d] * (1 + (d === v % D ? 2 ** -22 : 0));
  const w = processWeights(raw);
  const job = headJob(w);
  const ctl = { check: () => {}, blockBytes: 1 << 20 };
  for (const result of [await analyzeHeadDense(backend, job, ctl), await analyzeHeadPruned(backend, job, ctl, { fallbackShare: 1 })]) {
    // A key rank is defined on the report's own importance: float64 arithmetic on the head's float32
    // factors. These near-duplicates differ by less than the factors' own rounding, so an oracle
    // from the float64 weights may order them otherwise; the expectation is the brute-force count
    // over every key's importance, not the interval logic under test.
    const exact = Array.from({ length: V }, (_, k) => keyFigures(result.circuits, k, job.priorW).importance);
    const rankOf = (t: number) => exact.filter((x, k) => k !== t && (x > exact[t] || (x === exact[t] && k < t))).length;
    for (let t = 0; t < V; t += 7) {
      const hover = tokenInHead(result.circuits, t, 0, 0, job.priorW, 3, String, await ranks(result, job.priorW));
      if (hover.keyRankMax === undefined) assert.equal(hover.keyRank, rankOf(t), `token ${t}: rank`);
      else
        assert.ok(
          hover.keyRank! <= rankOf(t) && rankOf(t) <= hover.keyRankMax,
          `token ${t}: rank ${rankOf(t)} in [${hover.keyRank}, ${hover.keyRankMax}]`,
        );
    }
  }
  await backend.dispose();
});
