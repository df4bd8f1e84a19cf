/**
 * What if: ablated runs and activation patching against an independent float64 computation from the
 * raw weights (support/ablationReference.ts), on random models the engine has never seen: LN, LNPre
 * and none; standard and shortformer; 1–3 layers. Zero, mean and path ablations into q, k and v:
 * every pattern and the next token's log-prob within 1e-4; the patching grid's logit differences
 * within 1e-4 relative. Bad specs get one clear error.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HeadAblation, parseAblation } from "../src/core/ablations";
import { AttentionEvent } from "../src/protocol/attention";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { patch } from "../src/worker/patching";
import { AttentionRuns, runText } from "../src/worker/runText";
import { interventionRun } from "./support/ablationReference";
import { MEDIA_DIR, tempDir } from "./support/engine";
import { RandomModelSpec, randomWeights, writeModelDir } from "./support/models";

const backend = OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
const store = new ModelStore(MEDIA_DIR);
const runs = new AttentionRuns();
const deps = { store, runs, backend: () => backend, blockBytes: 1 << 20 };
after(async () => (await backend).dispose());
const ctx = (emit: (e: AttentionEvent) => void = () => undefined) => ({
  emit,
  signal: new AbortController().signal,
  throwIfCancelled: () => undefined,
});

const cases: RandomModelSpec[] = [
  { V: 61, D: 16, H: 2, E: 8, L: 2, norm: "LN", pos: "standard", seed: 231 },
  { V: 57, D: 16, H: 2, E: 4, L: 3, norm: "LNPre", pos: "standard", seed: 232 },
  { V: 50, D: 12, H: 3, E: 4, L: 2, norm: null, pos: "standard", seed: 233 },
  { V: 66, D: 16, H: 2, E: 8, L: 2, norm: "LN", pos: "shortformer", seed: 234 },
  { V: 48, D: 12, H: 2, E: 6, L: 1, norm: null, pos: "shortformer", seed: 235 },
];
const ids = [2, 9, 14, 5, 9, 14, 5, 30, 2, 9];

function specsFor(L: number, H: number): HeadAblation[][] {
  const out: HeadAblation[][] = [[{ layer: 0, head: 0, kind: "zero" }], [{ layer: 0, head: H - 1, kind: "mean" }]];
  if (L > 1)
    for (const input of ["q", "k", "v"] as const)
      out.push([{ layer: 0, head: 0, kind: input === "v" ? "mean" : "zero", into: { layer: L - 1, head: H - 1, input } }]);
  if (L > 2) out.push([parseAblation("1.1:mean"), parseAblation("0.1>2.0:k"), parseAblation("0.0>1.1:v")]);
  return out;
}

describe("what if: ablations and patching equal a float64 computation from the raw weights", () => {
  for (const spec of cases) {
    test(`norm=${spec.norm} pos=${spec.pos} L=${spec.L}`, async () => {
      const dir = writeModelDir(join(tempDir(), "m"), randomWeights(spec));
      const w = loadLocalModel(dir).weights;
      const T = ids.length;
      for (const ablations of specsFor(spec.L, spec.H)) {
        let pats: Float32Array[] = [];
        const r = await runText(
          { modelDir: dir, input: { tokens: ids }, patterns: "full", ablations },
          ctx((e) => e.patterns.kind === "full" && (pats = e.patterns.layers)),
          deps,
        );
        assert.deepEqual(r.ablations, ablations);
        const want = interventionRun(w, ids, { ablations });
        const what = JSON.stringify(ablations);
        for (let l = 0; l < spec.L; l++)
          for (let h = 0; h < spec.H; h++)
            for (let i = 0; i < T; i++)
              for (let j = 0; j <= i; j++) {
                const got = pats[l][(h * T + i) * T + j];
                assert.ok(
                  Math.abs(got - want.patterns[l][h][i][j]) < 1e-4,
                  `${what} L${l}H${h}[${i},${j}] ${got} vs ${want.patterns[l][h][i][j]}`,
                );
              }
        for (let t = 0; t + 1 < T; t++)
          assert.ok(Math.abs(r.next[t]!.logProb - want.logProbs[t][ids[t + 1]]) < 1e-4, `${what} log-prob at ${t}`);
      }
      // The ablations matter (a test that cannot fail would not): zero-ablating every head changes the log-probs.
      const plain = interventionRun(w, ids);
      const gone = interventionRun(w, ids, { ablations: [{ layer: 0, head: 0, kind: "zero" }] });
      assert.ok(Math.abs(plain.logProbs[T - 2][ids[T - 1]] - gone.logProbs[T - 2][ids[T - 1]]) > 1e-3);

      // Patching: every head, every position, against the reference.
      const corrupt = [2, 9, 14, 5, 9, 14, 5, 31, 3, 9];
      const cleanRef = interventionRun(w, ids);
      const corruptRef = interventionRun(w, corrupt);
      const argmax = (xs: Float64Array, not = -1) =>
        xs.reduce((b, x, i) => (i !== not && (b === not || x > xs[b]) ? i : b), not === 0 ? 1 : 0);
      const [a, b] = [argmax(cleanRef.logits[T - 1]), argmax(corruptRef.logits[T - 1])];
      // The defaults: the clean run's top prediction against the corrupted run's, or an error when they coincide.
      const byDefault = patch({ modelDir: dir, clean: { tokens: ids }, corrupt: { tokens: corrupt } }, ctx(), deps);
      if (a === b) await assert.rejects(byDefault, /say which token is wrong/);
      else assert.deepEqual([(await byDefault).answer.id, (await byDefault).wrong.id], [a, b]);
      const wrong = a === b ? argmax(corruptRef.logits[T - 1], a) : b;
      const p = await patch(
        { modelDir: dir, clean: { tokens: ids }, corrupt: { tokens: corrupt }, answer: { id: a }, wrong: { id: wrong }, positions: true },
        ctx(),
        deps,
      );
      const last = (run: { logits: Float64Array[] }) => run.logits[T - 1][a] - run.logits[T - 1][wrong];
      const rel = (a: number, b: number, what: string) =>
        assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
      rel(p.clean, last(cleanRef), "clean metric");
      rel(p.corrupt, last(corruptRef), "corrupt metric");
      for (let l = 0; l < spec.L; l++)
        for (let h = 0; h < spec.H; h++) {
          const all = interventionRun(w, corrupt, { patch: { layer: l, head: h, from: cleanRef.results, at: () => true } });
          rel(p.heads[l * spec.H + h], last(all), `L${l}H${h} patched`);
          for (const t of [0, 7, T - 1]) {
            const one = interventionRun(w, corrupt, { patch: { layer: l, head: h, from: cleanRef.results, at: (u) => u === t } });
            rel(p.positions![(l * spec.H + h) * T + t], last(one), `L${l}H${h} patched at ${t}`);
          }
        }
    });
  }

  test("positionsOf: one head's row, equal to the same row of the whole grid; the other rows NaN", async () => {
    const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 40, D: 8, H: 2, E: 4, L: 2, seed: 237 }));
    const base = { modelDir: dir, clean: { tokens: [1, 2, 3, 4] }, corrupt: { tokens: [1, 5, 3, 4] }, answer: { id: 7 }, wrong: { id: 8 } };
    const all = await patch({ ...base, positions: true }, ctx(), deps);
    const one = await patch({ ...base, positionsOf: { layer: 0, head: 1 } }, ctx(), deps);
    const row = (p: typeof all, i: number) => Array.from(p.positions!.subarray(i * 4, (i + 1) * 4));
    assert.deepEqual(row(one, 1), row(all, 1));
    for (const i of [0, 2, 3]) assert.ok(row(one, i).every(Number.isNaN));
  });

  test("bad ablations and unequal lengths get one clear error", async () => {
    const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 40, D: 8, H: 2, E: 4, L: 2, seed: 236 }));
    const run = (ablations: HeadAblation[]) =>
      runText({ modelDir: dir, input: { tokens: [1, 2, 3] }, patterns: "full", ablations }, ctx(), deps);
    await assert.rejects(run([{ layer: 2, head: 0, kind: "zero" }]), /cannot ablate L2H0: the model has 2 layers × 2 heads/);
    await assert.rejects(
      run([parseAblation("1.0>0.1:k")]),
      /cannot ablate L1H0 into L0H1: a head only reads the results of earlier layers/,
    );
    await assert.rejects(run([parseAblation("0.0"), parseAblation("0.0:zero")]), /L0H0 is ablated twice/);
    await assert.rejects(run([parseAblation("0.0"), parseAblation("0.0:mean")]), /L0H0 is ablated twice/);
    await assert.rejects(run([parseAblation("0.1>1.0:k"), parseAblation("0.1:mean>1.0:k")]), /L0H1 into L1H0:k is ablated twice/);
    assert.throws(() => parseAblation("0.0>1.0:x"), /is not L\.H\[:zero\|mean\]\[>L2\.H2:q\|k\|v\]/);
    await assert.rejects(
      patch({ modelDir: dir, clean: { tokens: [1, 2, 3] }, corrupt: { tokens: [1, 2] } }, ctx(), deps),
      /the clean text is 3 tokens and the corrupted one 2/,
    );
  });
});
