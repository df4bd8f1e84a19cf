import { test } from "node:test";
import assert from "node:assert/strict";
import { OrtBackend } from "../src/worker/ortBackend";
import { runForward } from "../src/worker/forward";
import { randomWeights } from "./support/models";
import { logProbs } from "./support/forward";

test("the onnxruntime forward pass matches a float64 reference (log-probs and patterns are causal)", async () => {
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  for (const norm of ["LN", null] as const) {
    const w = randomWeights({ V: 50, D: 16, H: 2, E: 8, L: 2, norm, seed: 31 });
    const toks = [[0, 5, 9, 13, 5, 9], [0, 1, 2, 3, 4, 49]];
    const r = await runForward(backend, w, toks);
    const V = 50, T = 6;
    toks.forEach((seq, b) => {
      const want = logProbs(w, seq);
      for (let i = 0; i < T; i++) {
        const row = r.logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((s, x) => s + Math.exp(x - mx), 0));
        for (let t = 0; t < V; t++) assert.ok(Math.abs(row[t] - lse - want[i][t]) < 1e-4, `${norm} b${b} pos ${i} tok ${t}: ${row[t] - lse} vs ${want[i][t]}`);
      }
    });
    const p = r.patterns[1];
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) assert.ok(p[i * T + j] < 1e-6, "no attention to the future");
  }
  await backend.dispose();
});
