/**
 * Large initializers reach onnxruntime as in-memory external data (onnxModel.ts, OrtBackend.createSession):
 * a session's answer must be the one of the same weights inlined in the model bytes, and of a plain
 * JavaScript product, also for weights that are a view into a larger buffer (a layer's slice).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { buildModel, buildModelWithData, ElemType, EXTERNAL_BYTES, Graph } from "../src/worker/onnxModel";
import { OrtBackend } from "../src/worker/ortBackend";
import { f32 } from "../src/worker/layerGraph";
import { mulberry32 } from "./support/random";

let backend: OrtBackend;
before(async () => (backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 })));
after(() => backend.dispose());

/** y = x · W + b with W [D, V] large enough to go external and b small enough to stay inline. */
function affine(W: Float32Array, b: Float32Array, D: number, V: number): Graph {
  return {
    name: "affine",
    inputs: [{ name: "x", type: ElemType.FLOAT, dims: ["R", D] }],
    outputs: [{ name: "y", type: ElemType.FLOAT, dims: ["R", V] }],
    nodes: [
      { op: "MatMul", inputs: ["x", "W"], outputs: ["xw"] },
      { op: "Add", inputs: ["xw", "b"], outputs: ["y"] },
    ],
    initializers: [f32("W", [D, V], W), f32("b", [V], b)],
  };
}

test("a large initializer passed as external data gives the inline model's and JavaScript's numbers, from a view at an offset too", async () => {
  const rand = mulberry32(7);
  const D = 64,
    V = 6000,
    R = 3;
  assert.ok(D * V * 4 >= EXTERNAL_BYTES);
  const whole = new Float32Array(D * V + 123).map(() => rand() - 0.5);
  const W = whole.subarray(123); // byteOffset 492: the layer slices the engine passes are views like this
  const b = new Float32Array(V).map(() => rand());
  const x = new Float32Array(R * D).map(() => rand() - 0.5);
  const g = affine(W, b, D, V);
  const built = buildModelWithData(g);
  assert.deepEqual(
    built.externalData.map((e) => e.data.byteLength),
    [D * V * 4],
  );
  assert.ok(built.model.byteLength < 64 * 1024, `${built.model.byteLength} model bytes: W went inline`);

  const run = async (s: Awaited<ReturnType<OrtBackend["createSession"]>>) =>
    (await s.run({ x: backend.tensor("float32", x, [R, D]) })).y.data as Float32Array;
  const external = await run(await backend.createSession(g));
  const inline = await run(await (await import("onnxruntime-node")).InferenceSession.create(buildModel(g)));
  assert.deepEqual(external, inline);
  for (let r = 0; r < R; r++)
    for (let v = 0; v < V; v += 97) {
      let s = 0;
      for (let d = 0; d < D; d++) s += x[r * D + d] * W[d * V + v];
      assert.ok(Math.abs(external[r * V + v] - (s + b[v])) < 1e-4, `[${r}, ${v}]`);
    }
});
