/**
 * The bundled demo's training history (models/demo-attn-2l/checkpoints/, quantized): every shipped
 * checkpoint reads as an independent float64 reader computes it and opens as a model folder, and the
 * induction phase change is visible across them (an independent float64 forward pass).
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseSafetensors, readFloatTensor } from "../src/core/safetensors";
import { ModelWeights } from "../src/core/weights";
import { inspectModelFolder, loadLocalModel } from "../src/worker/loaders/localModel";
import { referenceRun } from "./support/attentionReference";
import { REPO_ROOT } from "./support/engine";
import { checkpointFolder, independentTensors, independentWeights } from "./support/quantizedReference";
import { mulberry32 } from "./support/random";

const MODEL = join(REPO_ROOT, "models", "demo-attn-2l");
const CHECKPOINTS = join(MODEL, "checkpoints");

/** The shipped checkpoints, ascending by the training step in their names (2 048 tokens a step). */
const checkpoints = (existsSync(CHECKPOINTS) ? readdirSync(CHECKPOINTS) : [])
  .map((f) => ({ file: join(CHECKPOINTS, f), step: Number(/_(\d+)\.safetensors$/.exec(f)?.[1]) }))
  .filter((c) => Number.isFinite(c.step))
  .sort((a, b) => a.step - b.step);

describe("the shipped checkpoints", () => {
  test("every tensor of every shipped checkpoint reads as the independent float64 reader computes it", () => {
    assert.ok(checkpoints.length >= 12, `${checkpoints.length} checkpoints shipped`);
    for (const c of checkpoints) {
      const bytes = readFileSync(c.file);
      const f = parseSafetensors(bytes, c.file);
      const want = independentTensors(bytes);
      assert.ok(want.size >= 20, `${c.file} holds the model's tensors`);
      for (const [name, t] of want) {
        const got = readFloatTensor(f, name);
        assert.deepEqual(got.shape, t.shape, `${c.file} ${name}`);
        const bad = got.data.findIndex((v, i) => v !== t.data[i]);
        assert.equal(bad, -1, `${c.file} ${name}[${bad}]: ${got.data[bad]} vs ${t.data[bad]}`);
      }
    }
  });

  test("a shipped checkpoint opens as a model folder through the product's loader", () => {
    const last = checkpoints[checkpoints.length - 1];
    const dir = checkpointFolder(readFileSync(last.file), MODEL);
    try {
      assert.equal(inspectModelFolder(dir).d_vocab, 12288);
      const model = loadLocalModel(dir);
      const want = independentWeights(last.file, MODEL);
      assert.deepEqual(model.weights.W_E.shape, [12288, 128]);
      assert.deepEqual(Array.from(model.weights.W_U.data.subarray(0, 4096)), Array.from(want.W_U.data.subarray(0, 4096)));
      assert.deepEqual(Array.from(model.weights.blocks[1].W_K.data), Array.from(want.blocks[1].W_K.data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the demo's training history", () => {
  /** L1H0's induction score and L0H3's previous-token score on BOS + r + r (|r| = 50 random tokens), float64. */
  function scores(w: ModelWeights, seeds: number[]): { induction: number; prevToken: number } {
    // Patterns do not depend on the unembedding: a one-column W_U keeps the reference pass quick.
    const light: ModelWeights = {
      ...w,
      config: { ...w.config, d_vocab: 1 },
      W_U: { shape: [w.config.d_model, 1], data: new Float32Array(w.config.d_model) },
      b_U: { shape: [1], data: new Float32Array(1) },
    };
    let induction = 0,
      prevToken = 0;
    for (const seed of seeds) {
      const rand = mulberry32(seed);
      const r = Array.from({ length: 50 }, () => 1 + Math.floor(rand() * (w.config.d_vocab - 2)));
      const p = referenceRun(light, [0, ...r, ...r]).patterns;
      for (let i = 51; i <= 100; i++) induction += p[1][0][i][i - 49] / 50 / seeds.length;
      for (let i = 2; i <= 50; i++) prevToken += p[0][3][i][i - 1] / 49 / seeds.length;
    }
    return { induction, prevToken };
  }

  test("L1H0 becomes an induction head within the shipped checkpoints: < 0.1 at the first, ≥ 0.8 at the last, mostly within a quarter", () => {
    assert.ok(checkpoints.length >= 12, `${checkpoints.length} checkpoints shipped`);
    const curve = checkpoints.map((c) => ({ step: c.step, ...scores(independentWeights(c.file, MODEL), [11, 12]) }));
    const trace = curve.map((c) => `${c.step}: ${c.induction.toFixed(3)}`).join(", ");
    const first = curve[0].induction,
      last = curve[curve.length - 1].induction;
    assert.ok(first < 0.1, `first checkpoint's induction ${first} (${trace})`);
    assert.ok(last >= 0.8, `last checkpoint's induction ${last} (${trace})`);
    const quarter = Math.floor(curve.length / 4);
    const steepest = Math.max(...curve.slice(quarter).map((c, i) => c.induction - curve[i].induction));
    assert.ok(steepest > 0.5 * (last - first), `largest rise over ${quarter} checkpoints ${steepest} (${trace})`);
    // the previous-token head it composes with sits where the bundled model has it, and forms with it
    const prev = curve.map((c) => c.prevToken);
    assert.ok(prev[prev.length - 1] > prev[0] + 0.2, `L0H3 previous-token ${prev.map((v) => v.toFixed(2)).join(", ")}`);
  });
});
