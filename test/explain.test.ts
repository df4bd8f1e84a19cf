/**
 * "Why" (`explain`) against an independent float64 computation from the raw weights
 * (support/scoreReference.ts), on random models the engine has never seen: LN, LNPre and no
 * normalization; standard and shortformer positions; 1–3 layers. Every term, score, weight and
 * source agrees within 1e-4, the terms sum to the score, the sources to the head's DLA, and the
 * reference's own scores reproduce the reference pattern (log p_j − log p_0 = s_j − s_0).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { explain } from "../src/worker/explain";
import { AttentionRuns } from "../src/worker/runText";
import { referenceRun } from "./support/attentionReference";
import { MEDIA_DIR, tempDir } from "./support/engine";
import { RandomModelSpec, randomWeights, writeModelDir } from "./support/models";
import { keptRun } from "./support/keptRun";
import { referenceWhy } from "./support/scoreReference";

const TOL = 1e-4;
const backendPromise = OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
const store = new ModelStore(MEDIA_DIR);
const runs = new AttentionRuns();
after(async () => (await backendPromise).dispose());

const runIds = (dir: string, ids: number[]) => keptRun({ store, runs, backend: backendPromise }, dir, ids);

const near = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= TOL * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

const cases: RandomModelSpec[] = [
  { V: 83, D: 24, H: 3, E: 8, L: 2, norm: "LN", pos: "standard", seed: 141 },
  { V: 71, D: 16, H: 2, E: 8, L: 3, norm: "LN", pos: "standard", seed: 142 },
  { V: 64, D: 20, H: 2, E: 6, L: 2, norm: "LNPre", pos: "standard", seed: 143 },
  { V: 77, D: 16, H: 2, E: 8, L: 2, norm: null, pos: "standard", seed: 144 },
  { V: 90, D: 24, H: 2, E: 8, L: 2, norm: "LN", pos: "shortformer", seed: 145 },
  { V: 70, D: 16, H: 2, E: 8, L: 3, norm: null, pos: "shortformer", seed: 146 },
  { V: 60, D: 12, H: 2, E: 4, L: 1, norm: "LNPre", pos: "shortformer", seed: 147 },
];

describe("why: every term, score, weight and source equals a float64 computation from the raw weights", () => {
  for (const spec of cases) {
    test(`norm=${spec.norm} pos=${spec.pos} L=${spec.L}`, async () => {
      const raw = randomWeights(spec);
      const dir = writeModelDir(join(tempDir(), "m"), raw);
      const weights = loadLocalModel(dir).weights;
      const ids = [3, 17, 5, 40, 17, 5, 40, 9, 2, 33, 3, 17];
      const T = ids.length;
      const runId = await runIds(dir, ids);
      const ref = referenceRun(weights, ids);
      for (let layer = 0; layer < spec.L; layer++)
        for (const head of [0, spec.H - 1])
          for (const query of [0, 5, T - 1]) {
            const got = explain({ runId, layer, head, query }, runs);
            const want = referenceWhy(weights, ref, ids, layer, head, query);
            const at = `L${layer}H${head} q${query}`;
            assert.deepEqual(got.components, want.components, at);
            const C = want.components.length;
            assert.deepEqual(got.keys, [...Array(query + 1).keys()]);
            for (let j = 0; j <= query; j++) {
              for (let c = 0; c < C; c++)
                for (let c2 = 0; c2 < C; c2++)
                  near(got.terms[(j * C + c) * C + c2], want.terms[j][c][c2], `${at} k${j} ${want.components[c]}×${want.components[c2]}`);
              near(got.scores[j], want.scores[j], `${at} k${j} score`);
              near(got.weights[j], want.weights[j], `${at} k${j} weight`);
              let sum = 0;
              for (let k = 0; k < C * C; k++) sum += got.terms[j * C * C + k];
              near(sum, got.scores[j], `${at} k${j}: the terms sum to the score`);
              // The reference checks itself against its own pattern: only score differences matter to softmax.
              near(want.scores[j] - want.scores[0], Math.log(want.weights[j] / want.weights[0]), `${at} k${j} reference score vs pattern`);
            }
            if (query + 1 === T) {
              assert.equal(got.sources, null);
              assert.equal(got.dla, null);
            } else {
              assert.ok(got.sources && want.sources && got.dla !== null && want.dla !== null);
              want.sources.forEach((s, j) => near(got.sources![j], s, `${at} source ${j}`));
              near(got.dla, want.dla, `${at} dla`);
              near(
                got.sources.reduce((a, b) => a + b, 0),
                got.dla,
                `${at}: the sources sum to the head's DLA`,
              );
            }
            // Relative terms: the term minus its mean over keys 0…query.
            const mean = (k: number) => want.terms.reduce((a, t) => a + t[Math.floor(k / C)][k % C], 0) / (query + 1);
            for (let k = 0; k < C * C; k++)
              near(got.relative[query * C * C + k], want.terms[query][Math.floor(k / C)][k % C] - mean(k), `${at} relative ${k}`);
          }
    });
  }

  test("one key only, and positions out of range get one clear error", async () => {
    const spec: RandomModelSpec = { V: 50, D: 16, H: 2, E: 8, L: 2, seed: 148 };
    const dir = writeModelDir(join(tempDir(), "m"), randomWeights(spec));
    const runId = await runIds(dir, [1, 2, 3, 4, 5]);
    const all = explain({ runId, layer: 1, head: 1, query: 4 }, runs);
    const one = explain({ runId, layer: 1, head: 1, query: 4, key: 2 }, runs);
    const C = all.components.length;
    assert.deepEqual(one.keys, [2]);
    assert.deepEqual([...one.terms], [...all.terms.subarray(2 * C * C, 3 * C * C)]);
    assert.deepEqual([...one.relative], [...all.relative.subarray(2 * C * C, 3 * C * C)]);
    assert.throws(() => explain({ runId, layer: 2, head: 0, query: 1 }, runs), /no head L2H0 in this model \(2 layers × 2 heads\)/);
    assert.throws(() => explain({ runId, layer: 0, head: 0, query: 5 }, runs), /query position 5 is outside the text's 5 tokens/);
    assert.throws(() => explain({ runId, layer: 0, head: 0, query: 2, key: 3 }, runs), /key position 3 is not one the query at 2 sees/);
    assert.throws(() => explain({ runId: "nope", layer: 0, head: 0, query: 2 }, runs), /no longer kept/);
    // "strongest": the query's strongest key from the reference pattern (BOS, id 0, leads the second run: it is left out there).
    const weights = loadLocalModel(dir).weights;
    for (const ids of [
      [1, 2, 3, 4, 5],
      [0, 2, 3, 4, 5],
    ]) {
      const id = await runIds(dir, ids);
      const row = referenceRun(weights, ids).patterns[1][1][4];
      const from = ids[0] === 0 ? 1 : 0;
      const want = row.slice(from, 5).reduce((b, w, j) => (w > row[b] ? j + from : b), from);
      const strongest = explain({ runId: id, layer: 1, head: 1, query: 4, key: "strongest" }, runs);
      assert.equal(strongest.strongestKey, want);
      assert.deepEqual(strongest.keys, [want]);
    }
  });
});
