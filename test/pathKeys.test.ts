/**
 * A composition path's keys where cheap bounds prune its OV side (worker/pathKeys.ts): on weights
 * shaped like trained ones (log-normal token norms, outliers, decaying spectra) a q or v path
 * evaluates only a few keys' OV maxima exactly; on isotropic weights an int8 pass over the keys the
 * cheap bounds leave decides; either way its keys equal the float64 top keys of the dense path
 * matrices (test/support/pathOracle.ts).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pathCircuits } from "../src/core/pathCircuits";
import { processWeights } from "../src/core/processing";
import { PathRef } from "../src/core/report";
import { importance, priorWeights, topK } from "../src/core/selection";
import { HeadJob } from "../src/worker/headJob";
import { OrtBackend } from "../src/worker/ortBackend";
import { ortKernels } from "../src/worker/ortKernels";
import { pathCandidates } from "../src/worker/pathKeys";
import { analyzePath } from "../src/worker/pathStrategy";
import { randomWeights, trainedLikeWeights } from "./support/models";
import { pathMatrices64 } from "./support/pathOracle";
import { uniformHeadJob } from "./support/headJobs";
import { gaussianFiller } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

const V = 3000;
const trainedLike = processWeights(trainedLikeWeights({ V, D: 48, H: 2, E: 12, L: 2, seed: 25, name: "trained-like-3k" }));
const isotropic = processWeights(randomWeights({ V, D: 64, H: 2, E: 32, L: 2, seed: 26, name: "isotropic-3k" }));
let w = trainedLike;
const prior = new Float64Array(V).fill(1 / V);
const sizes = { nKeys: 5, nQueries: 4, nOutputs: 4 };
const job = (): HeadJob => uniformHeadJob(w, 1, 0, sizes, "t");
const ctl = { check: () => {}, blockBytes: 1 << 20 };

function topKeys64(via: PathRef): number[] {
  const { qk, ov } = pathMatrices64(w, 1, 0, via, 0);
  const pw = priorWeights(prior)[0];
  const imp = Array.from({ length: V }, (_, k) => {
    let q = 1,
      o = 1;
    if (qk) {
      q = -Infinity;
      for (let i = 0; i < V; i++) q = Math.max(q, qk[i * V + k]);
    }
    if (ov) {
      o = -Infinity;
      for (let j = 0; j < V; j++) o = Math.max(o, ov[k * V + j]);
    }
    return q * o * pw;
  });
  return imp
    .map((x, k) => [x, k])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, sizes.nKeys)
    .map((x) => x[1]);
}

for (const type of ["q", "v"] as const) {
  test(`${type} path on trained-like weights: a few exact OV rows, the float64 top keys`, async () => {
    const via: PathRef = { layer: 0, head: 1, type };
    const c = await pathCircuits(w, 1, 0, via, 0, ortKernels(backend));
    const maxQK = c.qk ? (await c.qk.diagonalRanks(ortKernels(backend), ctl)).colMax : undefined;
    const { evaluated, stage } = await pathCandidates(backend, c.ov!, maxQK, priorWeights(prior), sizes.nKeys + 5, ctl);
    assert.ok(stage === "cheap" && evaluated < V / 10, `the cheap bounds pruned the OV side: ${evaluated} of ${V} rows evaluated`);
    const { report } = await analyzePath(backend, job(), via, ctl);
    assert.deepEqual(
      report.keys.map((k) => k.id),
      topKeys64(via),
    );
  });
}

test("q path on isotropic weights: the int8 pass over what the cheap bounds leave, the float64 top keys", async () => {
  w = isotropic;
  try {
    const via: PathRef = { layer: 0, head: 1, type: "q" };
    const c = await pathCircuits(w, 1, 0, via, 0, ortKernels(backend));
    const maxQK = (await c.qk!.diagonalRanks(ortKernels(backend), ctl)).colMax;
    const { stage, evaluated } = await pathCandidates(backend, c.ov!, maxQK, priorWeights(prior), sizes.nKeys + 5, ctl);
    assert.ok(stage === "int8" && evaluated < V / 4, `${stage}: ${evaluated} of ${V} rows evaluated`);
    const { report } = await analyzePath(backend, job(), via, ctl);
    assert.deepEqual(
      report.keys.map((k) => k.id),
      topKeys64(via),
    );
  } finally {
    w = trainedLike;
  }
});

test("path candidates follow the QK factor too: mixed-sign QK maxima, the float64 top of maxQK·maxOV·p", async () => {
  const via: PathRef = { layer: 0, head: 1, type: "v" };
  const c = await pathCircuits(w, 1, 0, via, 0, ortKernels(backend));
  const { ov } = pathMatrices64(w, 1, 0, via, 0);
  const maxQK = gaussianFiller(3)(new Float32Array(V), 1); // some keys' best query score is negative
  const want = 12;
  const { candidates, evaluated } = await pathCandidates(backend, c.ov!, maxQK, priorWeights(prior), want, ctl);
  assert.ok(evaluated < V / 4, `pruned: ${evaluated} of ${V}`);
  const imp = Array.from({ length: V }, (_, k) => {
    let o = -Infinity;
    for (let j = 0; j < V; j++) o = Math.max(o, ov![k * V + j]);
    return maxQK[k] * o * priorWeights(prior)[k];
  });
  const top = imp
    .map((x, k) => [x, k])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, want)
    .map((x) => x[1]);
  assert.deepEqual(candidates, top);
});

test("the candidates are the dense pass's, at every stage: a Zipf prior, tied tokens, 1 to 2 000 keys", async () => {
  const zipf = new Float64Array(V).map((_, k) => 1 / (k + 1));
  const pw = priorWeights(zipf.map((x) => x / zipf.reduce((a, b) => a + b, 0)));
  const stages = new Set<string>();
  for (const [name, base] of [
    ["trained-like", trainedLike],
    ["isotropic", isotropic],
  ] as const) {
    // 100 tokens share the embedding of token 7: exact ties in every circuit.
    const tied = { ...base, W_E: { ...base.W_E, data: Float32Array.from(base.W_E.data) } };
    const D = base.config.d_model;
    for (let k = 2000; k < 2100; k++) tied.W_E.data.set(tied.W_E.data.subarray(7 * D, 8 * D), k * D);
    for (const type of ["q", "v"] as const) {
      const c = await pathCircuits(tied, 1, 0, { layer: 0, head: 1, type }, 0, ortKernels(backend));
      const maxQK = c.qk ? (await c.qk.diagonalRanks(ortKernels(backend), ctl)).colMax : undefined;
      const dense = importance(maxQK ?? new Float64Array(V).fill(1), await c.ov!.rowMax(ortKernels(backend), ctl), pw);
      for (const want of [1, 12, 300, 2000]) {
        const got = await pathCandidates(backend, c.ov!, maxQK, pw, want, ctl);
        stages.add(got.stage);
        assert.deepEqual(got.candidates, topK(dense, want), `${name} ${type} path, ${want} keys (${got.stage})`);
      }
    }
  }
  assert.deepEqual([...stages].sort(), ["cheap", "full", "int8"], "every stage ran");
});
