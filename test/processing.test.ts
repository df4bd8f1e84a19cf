import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { processWeights, defaultSteps } from "../src/core/processing";
import { tensor } from "../src/core/tensor";
import { ModelWeights } from "../src/core/weights";
import { configFor, randomWeights } from "./support/models";
import { referenceRun } from "./support/attentionReference";

const logProbs = (w: Parameters<typeof referenceRun>[0], tokens: number[]) => referenceRun(w, tokens).logProbs;

const near = (a: number, b: number, tol = 1e-5) => Math.abs(a - b) <= tol;

function rowMeans(a: Float32Array, rows: number, cols: number): number[] {
  return Array.from({ length: rows }, (_, r) => a.subarray(r * cols, (r + 1) * cols).reduce((s, x) => s + x, 0) / cols);
}

describe("weight processing invariants (LN model)", () => {
  const spec = { V: 60, D: 12, H: 3, E: 4, L: 2, norm: "LN" as const, seed: 5 };
  const raw = randomWeights(spec);
  const p = processWeights(raw);
  const { D, V, H, E } = spec;

  test("LayerNorm weights are folded away", () => {
    assert.equal(p.ln_final_w, undefined);
    assert.equal(p.blocks[0].ln1_w, undefined);
  });
  test("writing weights are centred over d_model", () => {
    for (const m of rowMeans(p.W_E.data, V, D)) assert.ok(near(m, 0), `W_E row mean ${m}`);
    for (const m of rowMeans(p.W_pos.data, 16, D)) assert.ok(near(m, 0));
    for (const b of p.blocks) {
      for (const m of rowMeans(b.W_O.data, H * E, D)) assert.ok(near(m, 0), `W_O row mean ${m}`);
      assert.ok(near(rowMeans(b.b_O.data, 1, D)[0], 0));
    }
  });
  test("reading weights are centred over d_model", () => {
    for (const b of p.blocks)
      for (const W of [b.W_Q, b.W_K, b.W_V]) {
        for (let h = 0; h < H; h++)
          for (let e = 0; e < E; e++) {
            let s = 0;
            for (let d = 0; d < D; d++) s += W.data[(h * D + d) * E + e];
            assert.ok(near(s / D, 0), `W column mean ${s / D}`);
          }
      }
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += p.W_U.data[d * V + v];
      assert.ok(near(s / D, 0));
    }
  });
  test("unembedding centred over the vocabulary and value biases folded", () => {
    for (const m of rowMeans(p.W_U.data, D, V)) assert.ok(near(m, 0));
    assert.ok(near(rowMeans(p.b_U.data, 1, V)[0], 0));
    for (const b of p.blocks) assert.ok(b.b_V.data.every((x) => x === 0));
  });
  test("the model's function is unchanged: same log-probs before and after", () => {
    const toks = [0, 5, 17, 3, 59, 5, 17, 8];
    const before = logProbs(raw, toks),
      after = logProbs(p, toks);
    before.forEach((row, i) => row.forEach((x, t) => assert.ok(near(x, after[i][t], 1e-4), `pos ${i} tok ${t}: ${x} vs ${after[i][t]}`)));
  });
  test("the input weights are not modified", () => {
    const again = randomWeights(spec);
    assert.deepEqual(raw.W_E.data, again.W_E.data);
    assert.ok(raw.ln_final_w);
  });
});

test("function unchanged for LNPre and no-normalization models too", () => {
  for (const norm of ["LNPre", null] as const) {
    const raw = randomWeights({ V: 40, D: 8, H: 2, E: 4, L: 2, norm, seed: 11 });
    const p = processWeights(raw);
    const toks = [1, 2, 3, 39, 2];
    const a = logProbs(raw, toks),
      b = logProbs(p, toks);
    a.forEach((row, i) => row.forEach((x, t) => assert.ok(near(x, b[i][t], 1e-4), `${norm}: ${x} vs ${b[i][t]}`)));
  }
});

test("shortformer: only value biases are folded (TL turns the rest off)", () => {
  const raw = randomWeights({ V: 30, D: 8, H: 2, E: 4, L: 1, pos: "shortformer", seed: 3 });
  assert.deepEqual(defaultSteps(raw), { fold_ln: false, center_writing_weights: false, center_unembed: false, fold_value_biases: true });
  const p = processWeights(raw);
  assert.deepEqual(p.W_E.data, raw.W_E.data);
  assert.deepEqual(p.W_U.data, raw.W_U.data);
  assert.ok(p.blocks[0].ln1_w);
});

test("a hand-computed case", () => {
  // D=2, V=2, one head with d_head 1.
  const config = { ...configFor({ V: 2, D: 2, H: 1, E: 1, L: 1 }), n_ctx: 1 };
  const w: ModelWeights = {
    config,
    W_E: tensor([2, 2], new Float32Array([1, 3, 0, 2])),
    W_pos: tensor([1, 2], new Float32Array([4, 0])),
    blocks: [
      {
        ln1_w: tensor([2], new Float32Array([2, 3])),
        ln1_b: tensor([2], new Float32Array([1, 1])),
        W_Q: tensor([1, 2, 1], new Float32Array([1, 1])),
        W_K: tensor([1, 2, 1], new Float32Array([1, 0])),
        W_V: tensor([1, 2, 1], new Float32Array([0, 1])),
        b_Q: tensor([1, 1], new Float32Array([0])),
        b_K: tensor([1, 1], new Float32Array([0])),
        b_V: tensor([1, 1], new Float32Array([2])),
        W_O: tensor([1, 1, 2], new Float32Array([1, -3])),
        b_O: tensor([2], new Float32Array([1, 0])),
      },
    ],
    ln_final_w: tensor([2], new Float32Array([1, 2])),
    ln_final_b: tensor([2], new Float32Array([0, 1])),
    W_U: tensor([2, 2], new Float32Array([1, 3, 2, 6])),
    b_U: tensor([2], new Float32Array([0, 0])),
  };
  const p = processWeights(w);
  const b = p.blocks[0];
  // fold_ln: b_Q += ln1.b·W_Q = 2; W_Q = [2, 3] -> centred [-0.5, 0.5]
  assert.deepEqual(Array.from(b.b_Q.data), [2]);
  assert.deepEqual(Array.from(b.W_Q.data), [-0.5, 0.5]);
  // b_K += 1; W_K = [2, 0] -> [1, -1]
  assert.deepEqual(Array.from(b.b_K.data), [1]);
  assert.deepEqual(Array.from(b.W_K.data), [1, -1]);
  // b_V = 2 + ln1.b·W_V(=1) = 3 before value-bias folding, then moved into b_O; W_V = [0, 3] -> [-1.5, 1.5]
  assert.deepEqual(Array.from(b.W_V.data), [-1.5, 1.5]);
  assert.deepEqual(Array.from(b.b_V.data), [0]);
  // center_writing: W_E rows [1,3] -> [-1,1], [0,2] -> [-1,1]; W_pos [4,0] -> [2,-2]; W_O [1,-3] -> [2,-2]; b_O [1,0] -> [0.5,-0.5]
  assert.deepEqual(Array.from(p.W_E.data), [-1, 1, -1, 1]);
  assert.deepEqual(Array.from(p.W_pos.data), [2, -2]);
  assert.deepEqual(Array.from(b.W_O.data), [2, -2]);
  // fold_value_biases: b_O += b_V(=3) · W_O(=[2,-2]) -> [6.5, -6.5]
  assert.deepEqual(Array.from(b.b_O.data), [6.5, -6.5]);
  // unembed: b_U += ln_final.b·W_U = [2, 6]; W_U rows scaled by [1,2] -> [[1,3],[4,12]];
  // centred over d_model per column -> [[-1.5,-4.5],[1.5,4.5]]; centred over vocab -> [[1.5,-1.5],[-1.5,1.5]]
  assert.deepEqual(Array.from(p.W_U.data), [1.5, -1.5, -1.5, 1.5]);
  assert.deepEqual(Array.from(p.b_U.data), [-2, 2]);
});
