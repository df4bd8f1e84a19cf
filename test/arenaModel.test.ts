/**
 * ARENA's induction-heads model (callummcdougall/attn_only_2L_half) as a named hub model, end to end
 * through the CLI and the local hub stand-in, at its real shape: 2 layers × 12 heads, d_model 768,
 * d_head 64, n_ctx 2048, d_vocab 50 278, no normalization, shortformer positions, no config.json in
 * the repo. The weights are random (the real ones are not reachable here), written as a real
 * TransformerLens state dict in float16 ("half", as the hub file's 184 MB suggests) with the IGNORE
 * and mask buffers a HookedTransformer's state_dict() holds. The tokenizer stands in for
 * EleutherAI/gpt-neox-20b's (same ids: 50 277, <|endoftext|> = 0 = BOS, <|padding|> = 1, the byte
 * alphabet from 2, the 23 whitespace-run tokens at the end), with a handful of merges.
 *
 * Expected values come from float64 computations on the weights written here, never from the CLI:
 * the forward pass (support/attentionReference.ts), each reported key's QK column and OV row, and
 * the composition scores from Gram matrices. The dense oracle (support/denseOracle.ts) forms V×V
 * float64 matrices (20 GB at this V), so the key ranking is checked against a sample of keys instead.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { floatToHalf, halfToFloat } from "../src/core/halfFloat";
import { ModelConfig } from "../src/core/config";
import { tensor } from "../src/core/tensor";
import { ModelWeights, weightsToNamedTensors } from "../src/core/weights";
import { ARENA_ATTN_ONLY_2L_CONFIG, hubModel } from "../src/host/hub/knownModels";
import { referenceRun } from "./support/attentionReference";
import { runCliAsync as runCli } from "./support/cliProcess";
import { tempDir } from "./support/engine";
import { FakeHub, startFakeHub } from "./support/fakeHub";
import { PickleWriter } from "./support/pickleWriter";
import { gaussianFiller, mulberry32 } from "./support/random";
import { writePth } from "./support/zipWriter";

/** ARENA's HookedTransformerConfig for this model, copied from the course's code (not from Head Lens's table). */
const CFG: ModelConfig = {
  model_name: "arena-attn-only-2l",
  d_model: 768,
  d_head: 64,
  n_heads: 12,
  n_layers: 2,
  n_ctx: 2048,
  d_vocab: 50278,
  attn_only: true,
  tokenizer_name: "EleutherAI/gpt-neox-20b",
  normalization_type: null,
  positional_embedding_type: "shortformer",
};
const { d_vocab: V, d_model: D, n_heads: H, d_head: E, n_ctx: N_CTX, n_layers: L } = CFG;

/** Random weights of the ARENA shape, rounded to float16 as they are stored (the reference must use what was written). */
function arenaWeights(seed: number): ModelWeights {
  const fill = gaussianFiller(seed);
  const g = (shape: number[], std: number) => {
    const a = fill(new Float32Array(shape.reduce((x, y) => x * y, 1)), std);
    for (let i = 0; i < a.length; i++) a[i] = halfToFloat(floatToHalf(a[i]));
    return tensor(shape, a);
  };
  return {
    config: CFG,
    W_E: g([V, D], 1 / Math.sqrt(D)),
    W_pos: g([N_CTX, D], 0.1),
    blocks: Array.from({ length: L }, () => ({
      W_Q: g([H, D, E], 1 / Math.sqrt(D)),
      W_K: g([H, D, E], 1 / Math.sqrt(D)),
      W_V: g([H, D, E], 1 / Math.sqrt(D)),
      b_Q: g([H, E], 0.1),
      b_K: g([H, E], 0.1),
      b_V: g([H, E], 0.1),
      W_O: g([H, E, D], 1 / Math.sqrt(E)),
      b_O: g([D], 0.1),
    })),
    W_U: g([D, V], 1 / Math.sqrt(D)),
    b_U: g([V], 0.1),
  };
}

/** A HookedTransformer state_dict() as torch.save writes it: float16 storages, plus each layer's IGNORE and mask buffers. */
function statePth(w: ModelWeights): Buffer {
  const p = new PickleWriter().global("collections", "OrderedDict").emptyTuple().reduce().put(0).mark();
  const storages: Record<string, Uint8Array> = {};
  let key = 0;
  const add = (name: string, shape: number[], type: string, bytes: Uint8Array) => {
    const k = String(key++);
    storages[k] = bytes;
    const numel = shape.reduce((a, b) => a * b, 1);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(name).rebuildTensor((s) => s.storage(type, k, numel), 0, shape, stride);
  };
  const half = (data: Float32Array) => {
    const out = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]);
    return new Uint8Array(out.buffer);
  };
  for (const [name, t] of weightsToNamedTensors(w)) {
    add(name, t.shape, "HalfStorage", half(t.data));
    const layer = /^blocks\.(\d+)\.attn\.b_O$/.exec(name)?.[1];
    if (layer === undefined) continue;
    add(`blocks.${layer}.attn.IGNORE`, [], "HalfStorage", half(Float32Array.of(-1e5)));
    const mask = new Uint8Array(N_CTX * N_CTX);
    for (let i = 0; i < N_CTX; i++) mask.fill(1, i * N_CTX, i * N_CTX + i + 1);
    add(`blocks.${layer}.attn.mask`, [N_CTX, N_CTX], "BoolStorage", mask);
  }
  p.setItems().stop();
  return writePth(p.bytes(), storages, "attn_only_2L_half");
}

/** GPT-2's bytes_to_unicode order: the printable bytes, then the rest mapped from U+0100. */
function byteAlphabet(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const chars = bs.map((b) => String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) chars.push(String.fromCodePoint(256 + n++));
  return chars;
}

/** A tokenizer.json standing in for EleutherAI/gpt-neox-20b's: its structure, size and special ids, few merges. */
function neox20bStandIn(): object {
  const vocab: Record<string, number> = {};
  let id = 2;
  for (const c of byteAlphabet()) vocab[c] = id++;
  const merges = ["Ġ c", "a t", "Ġc at", "Ġ s", "Ġs at", "T h", "Th e", "Ġ o", "Ġo n"];
  for (const m of merges) vocab[m.replace(" ", "")] = id++;
  for (let n = 0; id < 50254; n++) vocab[`Ġw${n.toString(36)}`] = id++;
  const special = (i: number, content: string) => ({
    id: i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const spaces = Array.from({ length: 23 }, (_, i) => ({ ...special(50254 + i, " ".repeat(24 - i)), normalized: true, special: false }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<|endoftext|>"), special(1, "<|padding|>"), ...spaces],
    normalizer: { type: "NFC" },
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      vocab,
      merges,
    },
  };
}

/** x·M for x [n, D] rows of W_E and M [D, E] (a head's slice), in float64. */
function embedTimes(WE: Float32Array, rows: number, M: Float32Array, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let d = 0; d < D; d++) {
      const x = WE[r * D + d];
      if (x === 0) continue;
      for (let c = 0; c < cols; c++) out[o + c] += x * M[d * cols + c];
    }
  }
  return out;
}

describe("ARENA's attn_only_2L_half through the hub stand-in", { timeout: 600_000 }, () => {
  let w: ModelWeights;
  let hub: FakeHub;
  let env: NodeJS.ProcessEnv;
  const dirs: string[] = [];
  const timings: string[] = [];

  before(async () => {
    const t0 = Date.now();
    w = arenaWeights(398);
    const root = tempDir("head-lens-arena-hub-");
    dirs.push(root);
    mkdirSync(join(root, "callummcdougall", "attn_only_2L_half"), { recursive: true });
    mkdirSync(join(root, "EleutherAI", "gpt-neox-20b"), { recursive: true });
    writeFileSync(join(root, "callummcdougall", "attn_only_2L_half", "attn_only_2L_half.pth"), statePth(w));
    writeFileSync(join(root, "callummcdougall", "attn_only_2L_half", "README.md"), "attn-only 2L model, config in ARENA's code\n");
    writeFileSync(join(root, "EleutherAI", "gpt-neox-20b", "tokenizer.json"), JSON.stringify(neox20bStandIn()));
    hub = await startFakeHub(root, "t");
    const cache = tempDir("head-lens-arena-cache-");
    dirs.push(cache);
    env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(cache, "hub"), XDG_CACHE_HOME: cache };
    timings.push(`build model + .pth + hub ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
  after(async () => {
    await hub?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true }); // 0.7 GB: the checkpoint, its download and conversion
    process.stderr.write(`ARENA model timings: ${timings.join("; ")}\n`);
  });

  test("the name and the repo name both resolve to the spec with the course's config", () => {
    assert.equal(hubModel("arena-attn-only-2l")?.repo, "callummcdougall/attn_only_2L_half");
    assert.equal(hubModel("callummcdougall/attn_only_2L_half")?.name, "arena-attn-only-2l");
    assert.equal(hubModel("arena-attn-only-2l")?.file, "attn_only_2L_half.pth");
    const { bos_token_id, ...config } = ARENA_ATTN_ONLY_2L_CONFIG;
    assert.deepEqual(config, CFG);
    assert.equal(bos_token_id, 0, "TransformerLens prepends the tokenizer's bos_token, <|endoftext|> = 0");
  });

  test("analyze: downloads (no config.json in the repo), converts, and reports keys equal to float64 columns and rows", async () => {
    const layer = 1,
      head = 5;
    const r = await runCli(
      [
        "analyze",
        "--model",
        "arena-attn-only-2l",
        "--layer",
        `${layer}`,
        "--head",
        `${head}`,
        "--keys",
        "3",
        "--queries",
        "5",
        "--outputs",
        "5",
      ].concat(["--priors", "uniform", "--json"]),
      env,
    );
    timings.push(`first analyze (download, convert, one head) ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /downloading callummcdougall\/attn_only_2L_half\/attn_only_2L_half\.pth/);
    assert.match(r.stderr, /downloading EleutherAI\/gpt-neox-20b\/tokenizer\.json/);
    assert.doesNotMatch(r.stderr, /config\.json/, "the repo has no config.json and none is asked for");
    const j = JSON.parse(r.stdout);
    assert.equal(j.model, "arena-attn-only-2l");
    assert.equal(j.bos, 0, "BOS is gpt-neox-20b's bos_token <|endoftext|> = 0");
    assert.equal(j.keys.length, 3);

    // Raw weights = processed ones here (shortformer, no normalization: TransformerLens folds only b_V).
    const b = w.blocks[layer];
    const sl = (t: Float32Array, n: number) => t.subarray(head * n, (head + 1) * n);
    const AQ = embedTimes(w.W_E.data, V, sl(b.W_Q.data, D * E), E);
    // Keys' rows only where a key is looked at (W_E[k]·W_K, W_E[k]·W_V): all V queries, few keys.
    const keyRow = (W: Float32Array, k: number) => embedTimes(w.W_E.data.subarray(k * D, (k + 1) * D), 1, sl(W, D * E), E);
    const OU = new Float64Array(E * V); // W_O[h] · W_U, [E, V]
    const WO = sl(b.W_O.data, E * D);
    for (let e = 0; e < E; e++)
      for (let d = 0; d < D; d++) {
        const x = WO[e * D + d];
        for (let o = 0; o < V; o++) OU[e * V + o] += x * w.W_U.data[d * V + o];
      }
    const qkColumn = (k: number) => {
      const [kk, kb] = [keyRow(b.W_K.data, k), keyRow(b.W_K.data, j.bos)];
      const dk = kk.map((x, e) => x - kb[e]);
      return new Float64Array(V).map((_, q) => {
        let s = 0;
        for (let e = 0; e < E; e++) s += AQ[q * E + e] * dk[e];
        return s;
      });
    };
    const ovRow = (k: number) => {
      const row = new Float64Array(V);
      const v = keyRow(b.W_V.data, k);
      for (let e = 0; e < E; e++) for (let o = 0; o < V; o++) row[o] += v[e] * OU[e * V + o];
      const mean = row.reduce((a, x) => a + x, 0) / V;
      return row.map((x) => x - mean);
    };
    const max = (a: Float64Array) => a.reduce((m, x) => Math.max(m, x), -Infinity);
    const top = (a: Float64Array, n: number) => [...a].sort((x, y) => y - x).slice(0, n);
    const close = (got: number, want: number, what: string) =>
      assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
    const priorWeight = Math.pow(1 / V, 0.1);
    for (const k of j.keys) {
      const col = qkColumn(k.id),
        row = ovRow(k.id);
      close(k.maxQK, max(col), `key ${k.id} maxQK`);
      close(k.maxOV, max(row), `key ${k.id} maxOV`);
      close(k.importance, max(col) * max(row) * priorWeight, `key ${k.id} importance`);
      top(col, 5).forEach((s, i) => close(k.queries[i].score, s, `key ${k.id} query #${i}`));
      k.queries.forEach((q: { id: number; score: number }) => close(col[q.id], q.score, `key ${k.id} query ${q.id}`));
      top(row, 5).forEach((s, i) => close(k.outputs[i].score, s, `key ${k.id} output #${i}`));
    }
    // The ranking: no key of a random sample (and BOS's neighbours) beats the third reported key.
    const rnd = mulberry32(7);
    const third = j.keys[2].importance;
    const reported = new Set(j.keys.map((k: { id: number }) => k.id));
    for (let i = 0; i < 100; i++) {
      const k = Math.floor(rnd() * V);
      if (reported.has(k)) continue;
      const imp = max(qkColumn(k)) * max(ovRow(k)) * priorWeight;
      assert.ok(imp <= third * (1 + 1e-5), `key ${k} has importance ${imp} > the reported third ${third}`);
    }
  });

  test("analyze by the repo name reuses the converted copy", async () => {
    const r = await runCli(
      ["analyze", "--model", "callummcdougall/attn_only_2L_half", "--layer", "0", "--head", "11", "--keys", "2", "--json"],
      env,
    );
    timings.push(`analyze by repo name (cached conversion, bundled prior) ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /converting/);
    const j = JSON.parse(r.stdout);
    assert.equal(j.layer, 0);
    assert.equal(j.head, 11);
    assert.equal(j.keys.length, 2);
  });

  test("metrics: 24 heads, and K-composition scores equal a float64 computation from Gram matrices", async () => {
    const r = await runCli(["metrics", "--model", "arena-attn-only-2l", "--json"], env);
    timings.push(`metrics ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.heads.length, L * H);
    for (const h of j.heads)
      for (const m of ["prevToken", "induction", "duplicateToken", "bos"]) assert.ok(h[m] >= 0 && h[m] <= 1, `${m} ${h[m]}`);
    // ‖W_V1 W_O1 W_K2 W_Q2ᵀ‖_F / (‖W_V1 W_O1‖_F ‖W_K2 W_Q2ᵀ‖_F), each ‖A Bᵀ‖² = tr(AᵀA · BᵀB).
    const slice = (t: Float32Array, h: number, n: number) => t.subarray(h * n, (h + 1) * n);
    const gram = (A: ArrayLike<number>, rows: number, cols: number, transpose = false) => {
      // AᵀA for A [rows, cols] (or A Aᵀ when transpose: A [cols, rows] read row-major)
      const G = new Float64Array(cols * cols);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < cols; i++) {
          const a = transpose ? A[i * rows + r] : A[r * cols + i];
          for (let k = 0; k < cols; k++) G[i * cols + k] += a * (transpose ? A[k * rows + r] : A[r * cols + k]);
        }
      return G;
    };
    const mul = (X: Float64Array, Y: Float64Array, n: number) => {
      const Z = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) for (let c = 0; c < n; c++) Z[i * n + c] += X[i * n + k] * Y[k * n + c];
      return Z;
    };
    const trace = (X: Float64Array, n: number) => Array.from({ length: n }, (_, i) => X[i * n + i]).reduce((a, x) => a + x, 0);
    const transposeSq = (X: Float64Array, n: number) => X.map((_, i) => X[(i % n) * n + Math.floor(i / n)]);
    for (const [h1, h2] of [
      [0, 0],
      [3, 7],
      [11, 2],
    ]) {
      const [b1, b2] = w.blocks;
      const WV = slice(b1.W_V.data, h1, D * E),
        WO = slice(b1.W_O.data, h1, E * D),
        WK = slice(b2.W_K.data, h2, D * E),
        WQ = slice(b2.W_Q.data, h2, D * E);
      const GV = gram(WV, D, E),
        GOt = gram(WO, D, E, true), // W_O W_Oᵀ [E, E]
        GK = gram(WK, D, E),
        GQ = gram(WQ, D, E);
      const M = new Float64Array(E * E); // W_O1 W_K2 [E, E]
      for (let i = 0; i < E; i++) for (let d = 0; d < D; d++) for (let c = 0; c < E; c++) M[i * E + c] += WO[i * D + d] * WK[d * E + c];
      const ovNorm2 = trace(mul(GV, GOt, E), E);
      const rNorm2 = trace(mul(GK, GQ, E), E);
      const prodNorm2 = trace(mul(mul(mul(GV, M, E), GQ, E), transposeSq(M, E), E), E);
      const want = Math.sqrt(prodNorm2 / (ovNorm2 * rNorm2));
      const got = j.composition.k[0][h1][1][h2];
      assert.ok(Math.abs(got - want) <= 1e-4, `K-composition L0H${h1} → L1H${h2}: ${got} vs ${want}`);
    }
  });

  test("run: live attention and predictions equal a float64 shortformer forward pass without normalization", async () => {
    const text = "The cat sat on. The cat sat on.";
    const r = await runCli(["run", "--model", "arena-attn-only-2l", "--text", text, "--json"], env);
    timings.push(`run ${r.seconds.toFixed(1)} s`);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.bos, 0);
    const ids: number[] = j.tokens.map((t: { id: number }) => t.id);
    assert.equal(ids[0], 0, "BOS first");
    assert.equal(
      j.tokens
        .map((t: { token: string }) => t.token)
        .join("")
        .includes("cat"),
      true,
    );
    assert.ok(ids.includes(vocabId(" cat")), "the stand-in tokenizer's merges are used");
    const ref = referenceRun(w, ids);
    let worst = 0;
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++)
        for (let q = 0; q < ids.length; q++)
          for (let k = 0; k < ids.length; k++) worst = Math.max(worst, Math.abs(j.attention[l][h][q][k] - ref.patterns[l][h][q][k]));
    assert.ok(worst <= 1e-4, `largest pattern difference ${worst}`);
    for (let t = 0; t < ids.length; t++) {
      const best = [...ref.logProbs[t].keys()].sort((a, b) => ref.logProbs[t][b] - ref.logProbs[t][a])[0];
      assert.equal(j.top[t][0].id, best, `position ${t}: top prediction`);
      assert.ok(Math.abs(Math.log(j.top[t][0].p) - ref.logProbs[t][best]) <= 1e-4, `position ${t}: top log-prob`);
      if (t < ids.length - 1) assert.ok(Math.abs(j.next[t].logprob - ref.logProbs[t][ids[t + 1]]) <= 1e-4, `position ${t}: next log-prob`);
    }
  });
});

/** The stand-in's id of a merged token (byte-level: ' ' is Ġ). */
function vocabId(token: string): number {
  const vocab = (neox20bStandIn() as { model: { vocab: Record<string, number> } }).model.vocab;
  return vocab[token.replace(/ /g, "Ġ")];
}
