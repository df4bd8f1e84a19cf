import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { processWeights } from "../src/core/processing";
import { DEFAULT_SIZES } from "../src/core/report";
import { loadPrior } from "../src/worker/loaders/priors";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { assertMatchesOracle } from "./support/compare";
import { denseOracle } from "./support/denseOracle";
import { MEDIA_DIR, tempDir, testEngine } from "./support/engine";
import { RandomModelSpec, randomWeights, writeModelDir } from "./support/models";
import { FloatDType } from "../src/core/safetensors";

const engine = testEngine();
after(() => engine.dispose());

const cases: { spec: RandomModelSpec; dtype: FloatDType; priors: "uniform" | "bundled" | "words" }[] = [
  { spec: { V: 300, D: 32, H: 2, E: 8, L: 1, norm: "LN", pos: "standard", seed: 1 }, dtype: "F32", priors: "uniform" },
  { spec: { V: 1000, D: 48, H: 3, E: 16, L: 2, norm: null, pos: "shortformer", seed: 2 }, dtype: "F16", priors: "bundled" },
  { spec: { V: 1500, D: 40, H: 2, E: 8, L: 2, norm: "LNPre", pos: "standard", seed: 3 }, dtype: "BF16", priors: "words" },
  { spec: { V: 3000, D: 64, H: 2, E: 16, L: 2, norm: "LN", pos: "shortformer", seed: 4, bos: 17 }, dtype: "F16", priors: "bundled" },
];

describe("engine agrees exactly with the dense oracle", () => {
  for (const c of cases) {
    const s = c.spec;
    test(`V=${s.V} L=${s.L} norm=${s.norm} pos=${s.pos} ${c.dtype} priors=${c.priors}`, async () => {
      const dir = writeModelDir(join(tempDir(), "m"), randomWeights(s), c.dtype);
      const priors: "uniform" | "bundled" | { wordsFile: string } = c.priors === "words" ? { wordsFile: join(dir, "words.txt") } : c.priors;
      if (c.priors === "words") writeFileSync(join(dir, "words.txt"), "the cat sat on the mat\n\n  import numpy as np  \nthe end\n");
      const sizes = { nKeys: 6, nQueries: 12, nOutputs: 9 };
      const reports = await engine.analyze({ modelDir: dir, heads: "all", priors, sizes });
      assert.equal(reports.length, s.L * s.H);
      const model = loadLocalModel(dir); // the file as written (F16/BF16 rounding included)
      const processed = processWeights(model.weights);
      const prior = loadPrior(priors, { vocab: model.vocab, mediaDir: MEDIA_DIR });
      for (const r of reports) {
        assert.equal(r.ep, "cpu");
        assert.equal(r.bos, s.bos ?? 0);
        assertMatchesOracle(
          r,
          denseOracle(processed, r.layer, r.head, model.vocab.bos, prior.p, sizes, (id) => model.vocab.display(id)),
        );
      }
    });
  }
});

describe("planted skip-trigram", () => {
  test("the report shows exactly the planted key, query and output", async () => {
    const s = { V: 400, D: 24, H: 2, E: 6, L: 1, norm: null, pos: "standard", seed: 9 } as const;
    const w = randomWeights(s);
    const [Q, K, O] = [123, 45, 301];
    const { D, E } = s;
    // Small noise everywhere, then dedicated residual directions for Q, K and O.
    for (const t of [w.W_E, w.W_U, ...w.blocks.flatMap((b) => [b.W_Q, b.W_K, b.W_V, b.W_O])])
      t.data.forEach((x, i, a) => (a[i] = x * 0.05));
    w.W_E.data[Q * D + 0] = 5; // Q -> direction 0
    w.W_E.data[K * D + 1] = 5; // K -> direction 1
    const b = w.blocks[0];
    b.W_Q.data[0 * D * E + 0 * E + 0] = 2; // head 0: query reads direction 0 into head dim 0
    b.W_K.data[0 * D * E + 1 * E + 0] = 2; // key reads direction 1 into head dim 0
    b.W_V.data[0 * D * E + 1 * E + 1] = 2; // value reads direction 1 into head dim 1
    b.W_O.data[0 * E * D + 1 * D + 2] = 2; // head dim 1 writes direction 2
    w.W_U.data[2 * s.V + O] = 5; // direction 2 raises O
    const dir = writeModelDir(join(tempDir(), "planted"), w, "F32");
    const [r] = await engine.analyze({ modelDir: dir, heads: [{ layer: 0, head: 0 }], priors: "uniform", sizes: DEFAULT_SIZES });
    assert.equal(r.keys[0].id, K, "top key is the planted key");
    assert.equal(r.keys[0].queries[0].id, Q, "top query is the planted query");
    assert.equal(r.keys[0].outputs[0].id, O, "top output is the planted output");
    assert.ok(r.keys[0].queries[0].score > 10 * Math.abs(r.keys[0].queries[1].score), "planted query stands far above the rest");
    assert.ok(r.keys[0].importance > 10 * Math.abs(r.keys[1].importance), "planted key stands far above the rest");
  });
});
