/**
 * One identity per result (model content + prior content), used by every cache. The bug this
 * guards against: a long-lived engine (the extension's) kept serving the keys of an edited
 * words.txt prior, and the stale result was stored under the new settings' key.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HeadReport } from "../src/core/report";
import { tempDir, testEngine } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

const engine = testEngine();
after(() => engine.dispose());
const sizes = { nKeys: 4, nQueries: 3, nOutputs: 3 };
const keysOf = (r: HeadReport[]) => r.map((h) => h.keys.map((k) => `${k.token} ${k.importance.toFixed(6)}`));

async function fresh(modelDir: string, wordsFile: string): Promise<HeadReport[]> {
  const other = testEngine();
  try {
    return await other.analyze({ modelDir, heads: [{ layer: 0, head: 0 }], priors: { wordsFile }, sizes });
  } finally {
    await other.dispose();
  }
}

test("editing the words.txt a prior points at changes the results of a long-lived engine, as a fresh engine computes them", async () => {
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 600, D: 24, H: 1, E: 8, L: 1, seed: 3 }));
  const words = join(tempDir(), "words.txt");
  writeFileSync(words, "the cat sat on the mat\nthe mat\n");
  const req = { modelDir: dir, heads: [{ layer: 0, head: 0 }], priors: { wordsFile: words }, sizes };
  const before = await engine.analyze(req);
  const id1 = await engine.identify(req);
  writeFileSync(words, "10 20 30 40 50 60 70 80 90\nimport numpy as np\n");
  const id2 = await engine.identify(req);
  const after = await engine.analyze(req);
  assert.notDeepEqual(keysOf(after), keysOf(before), "the new prior changes the keys");
  assert.deepEqual(keysOf(after), keysOf(await fresh(dir, words)), "the long-lived engine agrees with a fresh one");
  assert.equal(id1.model, id2.model, "the model did not change");
  assert.notEqual(id1.prior, id2.prior, "the prior's identity follows its content");
});

test("replacing a model's weights in place changes its identity and its results", async () => {
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 500, D: 16, H: 1, E: 4, L: 1, seed: 4 }));
  const other = writeModelDir(join(tempDir(), "n"), randomWeights({ V: 500, D: 16, H: 1, E: 4, L: 1, seed: 5 }));
  const req = { modelDir: dir, heads: "all" as const, priors: "uniform" as const, sizes };
  const before = await engine.analyze(req);
  const id1 = await engine.identify(req);
  copyFileSync(join(other, "model.safetensors"), join(dir, "model.safetensors"));
  const id2 = await engine.identify(req);
  assert.notEqual(id1.model, id2.model);
  assert.equal(id1.prior, id2.prior);
  const after = await engine.analyze(req);
  assert.notDeepEqual(keysOf(after), keysOf(before));
  assert.deepEqual(keysOf(after), keysOf(await engine.analyze({ ...req, modelDir: other })), "the same weights give the same keys");
});

test("the analysis reports the identity it was computed from, and the hover answers under the same one", async () => {
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 400, D: 16, H: 2, E: 4, L: 1, seed: 6 }));
  const req = { modelDir: dir, priors: "uniform" as const };
  let started: unknown;
  await engine.analyze(
    { ...req, heads: [{ layer: 0, head: 1 }], sizes },
    { onEvent: (e) => e.type === "started" && (started = e.identity) },
  );
  const id = await engine.identify(req);
  assert.deepEqual(started, id);
  const hover = await engine.hover({ ...req, text: "!", maxTokens: 4, head: { layer: 0, head: 1 }, n: 3 });
  assert.deepEqual(hover.identity, id);
  assert.equal(hover.tokens[0].token, "'!'");
  assert.ok(
    hover.inHead && hover.inHead.keyRank !== undefined && hover.inHead.keyRank >= 0,
    "the analyzed head's importance ranks the token",
  );
});

test("describe checks a folder cheaply: config, safetensors header against it, vocabulary; garbage weights are refused", async () => {
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 9 }));
  const ok = await engine.describe(dir);
  assert.equal(ok.config?.n_layers, 2);
  assert.equal(ok.error, undefined);
  const garbage = writeModelDir(join(tempDir(), "g"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 9 }));
  writeFileSync(join(garbage, "model.safetensors"), Buffer.from("this is not a safetensors file at all, just words"));
  const bad = await engine.describe(garbage);
  assert.equal(bad.config, undefined);
  assert.match(bad.error!, /model\.safetensors: header length \d+ .*(exceeds|runs past)/);
  assert.match(bad.code!, /^safetensors\./);
  const wrongShape = writeModelDir(join(tempDir(), "w"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 9 }), "F32", {
    n_heads: 3,
  });
  assert.match(
    (await engine.describe(wrongShape)).error!,
    /attn\.W_Q" has shape \[2, 16, 4\] but config\.json implies \[3, 16, 4\]|implies/,
  );
});

test("a model folder written with a trailing separator or '..' has one identity: metrics from the cache and an attention run agree", async () => {
  // Issue #21: the cache's lookup hashed the path as written, a load the resolved path; file names relative to
  // a different prefix gave two identities, and the attention panel never showed the metrics (they named the other).
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 8 }));
  const run = await engine.attention({ modelDir: dir, input: { tokens: [1, 2, 3, 1, 2, 3] }, patterns: "thumbnails" });
  for (const spelled of [`${dir}/`, join(dir, "..", "m") + "/", `${dir}/./`]) {
    assert.equal((await engine.identify({ modelDir: spelled, priors: "uniform" })).model, run.identity, spelled);
    assert.equal((await engine.metrics(spelled)).identity, run.identity, `metrics of ${spelled}`);
  }
});
