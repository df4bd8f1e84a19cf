/**
 * Live attention (`attention` request) against an independent float64 forward pass, on random
 * models the engine has never seen: LN, LNPre and no normalization; standard and shortformer
 * positions. Patterns, top-5 probabilities, the next token's log-prob and rank, and each head's
 * direct logit attribution agree within 1e-4; the attributions of all components sum to the logit.
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { AttentionEvent, AttentionResult } from "../src/protocol/attention";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionSessions } from "../src/worker/attentionRun";
import { AttentionRuns, runText } from "../src/worker/runText";
import { componentAttribution, referenceRun } from "./support/attentionReference";
import { MEDIA_DIR, REPO_ROOT, tempDir, testEngine } from "./support/engine";
import { RandomModelSpec, randomWeights, writeModelDir } from "./support/models";

const TOL = 1e-4;
const backendPromise = OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
const store = new ModelStore(MEDIA_DIR);
const runs = new AttentionRuns();
after(async () => (await backendPromise).dispose());

async function run(
  dir: string,
  input: { text: string } | { tokens: number[] },
  blockBytes = 4096,
): Promise<{ result: AttentionResult; events: AttentionEvent[] }> {
  const events: AttentionEvent[] = [];
  const ac = new AbortController();
  const ctx = { emit: (e: AttentionEvent) => events.push(e), signal: ac.signal, throwIfCancelled: () => undefined };
  const result = await runText({ modelDir: dir, input, patterns: "full" }, ctx, { store, runs, backend: () => backendPromise, blockBytes });
  return { result, events };
}

const cases: RandomModelSpec[] = [
  { V: 97, D: 24, H: 3, E: 8, L: 2, norm: "LN", pos: "standard", seed: 41 },
  { V: 80, D: 16, H: 2, E: 8, L: 2, norm: null, pos: "standard", seed: 42 },
  { V: 64, D: 20, H: 2, E: 6, L: 1, norm: "LNPre", pos: "standard", seed: 43 },
  { V: 90, D: 24, H: 2, E: 8, L: 2, norm: "LN", pos: "shortformer", seed: 44 },
  { V: 70, D: 16, H: 2, E: 8, L: 3, norm: null, pos: "shortformer", seed: 45 },
];

describe("attention on random models equals a float64 forward pass", () => {
  for (const spec of cases) {
    test(`norm=${spec.norm} pos=${spec.pos} L=${spec.L}`, async () => {
      const raw = randomWeights(spec);
      const dir = writeModelDir(join(tempDir(), "m"), raw);
      const weights = loadLocalModel(dir).weights;
      const ids = [3, 17, 5, 60, 17, 5, 60, 9, 2, 33, 3, 17, 5];
      const { result, events } = await run(dir, { tokens: ids });
      const T = ids.length,
        L = spec.L,
        H = spec.H,
        K = 5;
      const ref = referenceRun(weights, ids); // raw weights: independent of Head Lens's processing
      assert.equal(events.length, 1);
      const pats = events[0].patterns;
      assert.equal(pats.kind, "full");
      for (let l = 0; l < L; l++)
        for (let h = 0; h < H; h++)
          for (let i = 0; i < T; i++)
            for (let j = 0; j < T; j++) {
              const got = (pats.kind === "full" ? pats.layers[l] : new Float32Array())[(h * T + i) * T + j];
              assert.ok(Math.abs(got - ref.patterns[l][h][i][j]) < TOL, `L${l}H${h} [${i},${j}]: ${got} vs ${ref.patterns[l][h][i][j]}`);
            }
      for (let t = 0; t < T; t++) {
        const want = [...ref.logProbs[t]]
          .map((lp, id) => ({ id, lp }))
          .sort((a, b) => b.lp - a.lp || a.id - b.id)
          .slice(0, K);
        result.top[t].forEach((p, k) => {
          assert.ok(Math.abs(p.p - Math.exp(want[k].lp)) < TOL, `pos ${t} top ${k}: p ${p.p} vs ${Math.exp(want[k].lp)}`);
          assert.ok(Math.abs(Math.log(p.p) - ref.logProbs[t][p.id]) < TOL, `pos ${t}: id ${p.id} has the reference log-prob`);
        });
        if (t + 1 === T) {
          assert.equal(result.next[t], null);
          continue;
        }
        const nx = result.next[t]!;
        const lp = ref.logProbs[t][ids[t + 1]];
        assert.ok(Math.abs(nx.logProb - lp) < TOL, `pos ${t} next log-prob ${nx.logProb} vs ${lp}`);
        assert.equal(nx.rank, 1 + [...ref.logProbs[t]].filter((x) => x > lp + 1e-9).length, `pos ${t} next rank`);
      }
      // Logit attribution, as TransformerLens's cache.logit_attrs on from_pretrained (processed) weights.
      const processed = processWeights(weights);
      const pref = referenceRun(processed, ids);
      for (let t = 0; t + 1 < T; t++) {
        const target = ids[t + 1];
        let sum = componentAttribution(processed, pref, pref.embed[t], t, target);
        if (pref.pos) sum += componentAttribution(processed, pref, pref.pos[t], t, target);
        for (let l = 0; l < L; l++) {
          sum += componentAttribution(processed, pref, pref.biases[l], t, target);
          for (let h = 0; h < H; h++) {
            const got = result.dla[(t * L + l) * H + h];
            const want = componentAttribution(processed, pref, pref.headResults[l][h][t], t, target);
            assert.ok(Math.abs(got - want) < TOL, `pos ${t} L${l}H${h} dla ${got} vs ${want}`);
            sum += got;
          }
        }
        // The final LN's bias (when not folded) and b_U are the constant the components do not carry.
        const { d_model: D, d_vocab: V } = processed.config;
        let constant = processed.b_U.data[target];
        if (processed.ln_final_b) for (let d = 0; d < D; d++) constant += processed.ln_final_b.data[d] * processed.W_U.data[d * V + target];
        assert.ok(
          Math.abs(sum + constant - pref.logits[t][target]) < 1e-3,
          `pos ${t}: components sum to the logit (${sum + constant} vs ${pref.logits[t][target]})`,
        );
      }
      for (let t = 0; t < T; t++)
        for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) if (t + 1 === T) assert.ok(Number.isNaN(result.dla[(t * L + l) * H + h]));
      // An exact pattern on demand equals the streamed one.
      const one = runs.pattern({ runId: result.runId, layer: L - 1, head: H - 1 });
      assert.equal(one.T, T);
      assert.deepEqual([...one.weights], [...(pats.kind === "full" ? pats.layers[L - 1].subarray((H - 1) * T * T, H * T * T) : [])]);
    });
  }
});

test("text input: BOS prepended as TransformerLens's to_tokens does, spans map tokens to the text, long text keeps its end", async () => {
  const dir = join(process.cwd(), "models", "demo-attn-2l");
  const text = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))  # héllo ✓\n";
  const { result, events } = await run(dir, { text }, 12 * 1024 * 1024);
  const model = loadLocalModel(dir);
  assert.equal(result.bos, model.vocab.bos);
  assert.deepEqual(
    result.tokens.map((t) => t.id),
    [model.vocab.bos, ...model.vocab.encode(text)],
  );
  assert.deepEqual(result.tokens[0], {
    id: model.vocab.bos,
    token: model.vocab.display(model.vocab.bos),
    text: "<|endoftext|>",
    start: 0,
    end: 0,
  });
  assert.equal(
    result.tokens
      .slice(1)
      .map((t) => text.slice(t.start, t.end))
      .join(""),
    text,
    "spans tile the text",
  );
  assert.equal(events[0].run.runId, result.runId);
  assert.equal(result.truncated, 0);
  const long = "x = 1\n".repeat(400); // 1 600 tokens > n_ctx 256
  const r2 = (await run(dir, { text: long }, 12 * 1024 * 1024)).result;
  assert.equal(r2.tokens.length, 256);
  assert.equal(r2.tokens[0].id, model.vocab.bos);
  assert.equal(r2.truncated, model.vocab.encode(long).length - 255);
  assert.equal(r2.tokens[255].end, long.length, "the last token is the text's end");
});

test("a hub model's tokenizer (gpt-neox-digits): its <|BOS|> (id 1) is prepended, digits are one token each, at their places", async () => {
  const fixtures = join(REPO_ROOT, "test", "fixtures", "hub", "NeelNanda");
  const dir = join(tempDir(), "tiny");
  cpSync(join(fixtures, "Attn_Only_Tiny_C4_Code", "reference"), dir, { recursive: true });
  cpSync(join(fixtures, "gpt-neox-tokenizer-digits", "tokenizer.json"), join(dir, "tokenizer.json"));
  const text = "x = 1234";
  const { result } = await run(dir, { text }, 1 << 20);
  assert.equal(result.bos, 1);
  assert.deepEqual(
    result.tokens.map((t) => [t.id, text.slice(t.start, t.end)]),
    [
      [1, ""],
      [123, "x"],
      [35, " "],
      [64, "="],
      [35, " "],
      [52, "1"],
      [53, "2"],
      [54, "3"],
      [55, "4"],
    ],
  );
  assert.equal(result.tokens[0].token, "'<|BOS|>'");
});

test("bad input: one clear error each", async () => {
  const dir = join(process.cwd(), "models", "demo-attn-2l");
  const codeOf = async (input: { text: string } | { tokens: number[] }) => {
    try {
      await run(dir, input);
      return "ok";
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  assert.equal(await codeOf({ text: "" }), "request.empty");
  assert.equal(await codeOf({ text: "ab\u0000\u0001cd" }), "request.binary");
  assert.equal(await codeOf({ tokens: [] }), "request.noTokens");
  assert.equal(await codeOf({ tokens: [1, 99999] }), "request.token");
  assert.equal(await codeOf({ tokens: Array(300).fill(1) }), "request.tooLong");
  try {
    await run(join(tempDir(), "missing"), { text: "x" });
    assert.fail("a missing model folder must fail");
  } catch (e) {
    assert.equal((e as { code: string }).code, "model.missing");
  }
});

test("through the worker: patterns stream before the reply, as typed arrays; thumbnails are max-pooled bytes", async () => {
  const engine = testEngine();
  try {
    const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 50, D: 16, H: 2, E: 8, L: 2, seed: 7 }));
    const order: string[] = [];
    const result = await engine.attention(
      { modelDir: dir, input: { tokens: [1, 2, 3, 4, 1, 2, 3, 4] }, patterns: "thumbnails" },
      {
        onEvent: (e) => {
          order.push(e.type);
          assert.equal(e.patterns.kind, "thumbnails");
          if (e.patterns.kind === "thumbnails") {
            assert.ok(e.patterns.layers[0] instanceof Uint8Array);
            assert.equal(e.patterns.size, 8);
            assert.equal(e.patterns.layers[0].length, 2 * 8 * 8);
            assert.equal(e.patterns.layers[0][0], 255, "BOS row attends to itself with weight 1");
          }
        },
      },
    );
    order.push("reply");
    assert.deepEqual(order, ["patterns", "reply"]);
    assert.ok(result.dla instanceof Float32Array);
    const p = await engine.attentionPattern({ runId: result.runId, layer: 1, head: 0 });
    assert.ok(p.weights instanceof Float32Array);
    assert.equal(p.weights.length, 64);
  } finally {
    await engine.dispose();
  }
});

test("runs of two models at once (Change model… while a run is in flight) each finish with their own model's numbers", async () => {
  // Issue #21: a run of another model released the sessions a run in flight was using ("Session already disposed").
  const a = writeModelDir(join(tempDir(), "a"), randomWeights({ V: 3000, D: 64, H: 4, E: 16, L: 2, seed: 61 }));
  const b = writeModelDir(join(tempDir(), "b"), randomWeights({ V: 3000, D: 64, H: 4, E: 16, L: 1, seed: 62 }));
  const ids = Array.from({ length: 16 }, (_, i) => (i * 7) % 2999);
  const solo = new Map<string, AttentionResult>();
  for (const dir of [a, b]) solo.set(dir, (await run(dir, { tokens: ids })).result);
  const together = await Promise.allSettled([a, b, a, b].map((dir) => run(dir, { tokens: ids })));
  together.forEach((r, i) => {
    assert.equal(r.status, "fulfilled", r.status === "rejected" ? String(r.reason) : "");
    const dir = [a, b, a, b][i];
    if (r.status === "fulfilled") assert.deepEqual(r.value.result.top, solo.get(dir)!.top);
  });
});

test("A, then B, then A again while A's first run still holds its sessions: A's sessions are taken back, not built twice", async () => {
  // Each body session holds the model's weights (the unembedding W_U: 154 MB at ARENA's shape); a second copy is memory for nothing.
  const built: string[] = [];
  const released: string[] = [];
  const fake = {
    createSession: () => {
      const name = `session ${built.length}`;
      built.push(name);
      return Promise.resolve({ release: () => (released.push(name), Promise.resolve()) });
    },
  } as unknown as OrtBackend;
  const w = randomWeights({ V: 20, D: 8, H: 1, E: 4, L: 1, seed: 63 });
  const sessions = new AttentionSessions(fake);
  const a1 = sessions.lease("A", w);
  const b = sessions.lease("B", w);
  const a2 = sessions.lease("A", w);
  assert.equal(built.length, 2, "A's body session was built again");
  assert.equal(await a2.body(), await a1.body());
  b.done();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(released, ["session 1"], "B's session goes once no run uses it");
  a1.done();
  a2.done();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(released, ["session 1"], "A's sessions stay while A is the current model");
});
