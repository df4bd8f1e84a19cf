import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { CLI, runCliAsync as runAsync } from "./support/cliProcess";
import { startFakeHub } from "./support/fakeHub";
import { REPO_ROOT, tempDir } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });

let model = "";
before(() => {
  model = writeModelDir(
    join(tempDir(), "cli-model"),
    randomWeights({ V: 500, D: 32, H: 2, E: 8, L: 2, seed: 21, name: "cli-model" }),
    "F16",
  );
});

function expectOneLineError(r: ReturnType<typeof run>, code: number, re: RegExp): void {
  assert.equal(r.status, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], re);
  assert.equal(r.stdout, "");
}

describe("bad arguments: exit 2 and one line saying what to fix", () => {
  test("no head given", () => expectOneLineError(run("analyze", "--model", model), 2, /--layer L --head H, or --all/));
  test("both --all and --layer", () =>
    expectOneLineError(run("analyze", "--model", model, "--all", "--layer", "0", "--head", "0"), 2, /either --all or --layer/));
  test("non-numeric --keys", () =>
    expectOneLineError(run("analyze", "--model", model, "--all", "--keys", "x"), 2, /--keys must be an integer ≥ 1/));
  test("unknown option", () => expectOneLineError(run("analyze", "--all", "--bogus"), 2, /unknown option "--bogus"/));
  test("unknown command", () => expectOneLineError(run("analyse"), 2, /unknown command "analyse"/));
  test("a name every object has is no command", () => expectOneLineError(run("toString"), 2, /unknown command "toString"/));
  test("unknown execution provider", () =>
    expectOneLineError(run("analyze", "--all", "--ep", "tpu"), 2, /unknown execution provider "tpu"/));
  test("unknown strategy", () =>
    expectOneLineError(run("analyze", "--all", "--strategy", "fast"), 2, /--strategy must be "auto", "dense" or "pruned" \(got "fast"\)/));
});

describe("bad models: exit 1 and one line naming the problem", () => {
  test("missing folder", () =>
    expectOneLineError(run("analyze", "--model", "/no/such/model", "--all"), 1, /model folder \/no\/such\/model does not exist/));
  test("head out of range", () =>
    expectOneLineError(
      run("analyze", "--model", model, "--layer", "0", "--head", "7"),
      1,
      /head 7 does not exist: the model has heads 0–1/,
    ));
  test("truncated weights", () => {
    const dir = tempDir();
    const broken = writeModelDir(join(dir, "broken"), randomWeights({ V: 100, D: 8, H: 1, E: 4, L: 1 }));
    const st = join(broken, "model.safetensors");
    writeFileSync(st, readFileSync(st).subarray(0, 2000));
    expectOneLineError(
      run("analyze", "--model", broken, "--all"),
      1,
      /model\.safetensors: tensor "embed\.W_E": data_offsets \[0, 3200\] run past the 800-byte data section/,
    );
  });
  test("unreadable priors file", () =>
    expectOneLineError(
      run("analyze", "--model", model, "--all", "--priors", "/no/words.txt"),
      1,
      /priors file \/no\/words\.txt: cannot read it/,
    ));
});

describe("models beyond folders", () => {
  test("--model attn-only-2l downloads from the hub (HF_ENDPOINT), converts, and analyzes", async () => {
    const hub = await startFakeHub(join(REPO_ROOT, "test", "fixtures", "hub"), "t", {
      "NeelNanda/Attn_Only_2L512W_C4_Code": "NeelNanda/Attn_Only_Tiny_C4_Code",
    });
    try {
      const cache = tempDir();
      const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(cache, "hub"), XDG_CACHE_HOME: cache };
      const r = await runAsync(
        ["analyze", "--model", "attn-only-2l", "--layer", "1", "--head", "3", "--keys", "2", "--priors", "uniform", "--json"],
        env,
      );
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.model, "attn-only-2l");
      assert.equal(j.bos, 1);
      assert.match(r.stderr, /downloading NeelNanda\/Attn_Only_2L512W_C4_Code\/model_final\.pth/);
      assert.ok(existsSync(join(cache, "hub", "models--NeelNanda--Attn_Only_2L512W_C4_Code", "refs", "main")));
      const offline = await runAsync(
        ["analyze", "--model", "attn-only-2l", "--layer", "1", "--head", "3", "--keys", "2", "--priors", "uniform", "--json"],
        { ...env, HF_HUB_OFFLINE: "1" },
      );
      assert.equal(offline.status, 0, offline.stderr);
      assert.deepEqual(JSON.parse(offline.stdout), j, "the cached copy gives the same report offline");
    } finally {
      await hub.close();
    }
  });
  test("--model file.pth converts a TransformerLens checkpoint with its config.json and tokenizer.json", () => {
    const dir = tempDir();
    const src = join(REPO_ROOT, "test", "fixtures", "hub", "NeelNanda");
    cpSync(join(src, "Attn_Only_Tiny_C4_Code", "model_final.pth"), join(dir, "tiny.pth"));
    cpSync(join(src, "Attn_Only_Tiny_C4_Code", "config.json"), join(dir, "config.json"));
    const noTok = run("analyze", "--model", join(dir, "tiny.pth"), "--all");
    assert.equal(noTok.status, 1);
    assert.match(noTok.stderr, /put that tokenizer's tokenizer\.json beside the \.pth/);
    cpSync(join(src, "gpt-neox-tokenizer-digits", "tokenizer.json"), join(dir, "tokenizer.json"));
    const r = spawnSync(
      process.execPath,
      [CLI, "analyze", "--model", join(dir, "tiny.pth"), "--layer", "0", "--head", "0", "--priors", "uniform", "--json"],
      { encoding: "utf8", env: { ...process.env, XDG_CACHE_HOME: tempDir() } },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).keys.length, 5);
  });
  test("an unknown model name lists what is accepted", () =>
    expectOneLineError(
      run("analyze", "--model", "attn-only-9l", "--all"),
      1,
      /neither a folder, a \.pth file, nor a hub model \(attn-only-1l, attn-only-2l/,
    ));
});

describe("output contracts", () => {
  test("--json for one head has exactly the documented fields", () => {
    const r = run(
      "analyze",
      "--model",
      model,
      "--layer",
      "1",
      "--head",
      "0",
      "--keys",
      "3",
      "--queries",
      "4",
      "--outputs",
      "2",
      "--priors",
      "uniform",
      "--json",
    );
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ["model", "layer", "head", "bos", "ep", "keys"]);
    assert.deepEqual([j.model, j.layer, j.head, j.bos, j.ep], ["cli-model", 1, 0, 0, "cpu"]);
    assert.equal(j.keys.length, 3);
    for (const k of j.keys) {
      assert.deepEqual(Object.keys(k), ["id", "token", "importance", "maxQK", "maxOV", "queries", "outputs"]);
      assert.equal(k.queries.length, 4);
      assert.equal(k.outputs.length, 2);
      for (const x of [...k.queries, ...k.outputs]) assert.deepEqual(Object.keys(x), ["id", "token", "score"]);
    }
    for (let i = 1; i < j.keys.length; i++) assert.ok(j.keys[i - 1].importance >= j.keys[i].importance, "keys descend by importance");
  });
  test("--all --json wraps every head", () => {
    const r = run("analyze", "--model", model, "--all", "--keys", "1", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ["model", "ep", "heads"]);
    assert.deepEqual(
      j.heads.map((h: { layer: number; head: number }) => `${h.layer}:${h.head}`),
      ["0:0", "0:1", "1:0", "1:1"],
    );
  });
  test("text output is the notebook's report and agrees with --json", () => {
    const text = run("analyze", "--model", model, "--layer", "0", "--head", "1");
    const json = JSON.parse(run("analyze", "--model", model, "--layer", "0", "--head", "1", "--json").stdout);
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 4), ["", "=".repeat(80), "Head 0:1 (cli-model)", "=".repeat(80)]);
    const keyLines = lines.filter((l) => l.startsWith("Key: "));
    assert.deepEqual(
      keyLines,
      json.keys.map((k: { token: string }) => `Key: ${k.token}`),
    );
    assert.equal(lines.filter((l) => l === "Queries that prefer key:").length, 5);
    assert.equal(lines.filter((l) => l === "Effect on logits:").length, 5);
    const first = json.keys[0];
    assert.ok(text.stdout.includes(`${first.queries[0].token} (${first.queries[0].score.toFixed(2)})`));
    for (const l of lines) assert.ok([...l].length <= 80, `line too long: ${l}`);
  });
});

describe("metrics, composition paths and token: contracts", () => {
  test("metrics --json: every head's traits and the composition scores, zero unless l1 < l2", () => {
    const r = run("metrics", "--model", model, "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ["model", "heads", "composition"]);
    assert.equal(j.heads.length, 4);
    assert.deepEqual(Object.keys(j.heads[0]), ["layer", "head", "copying", "prevToken", "induction", "duplicateToken", "bos"]);
    for (const t of ["q", "k", "v"]) {
      assert.equal(j.composition[t].length, 2);
      assert.equal(j.composition[t][1][0][0][1], 0, "later → earlier is 0");
      assert.ok(j.composition[t][0][1][1][0] > 0, "earlier → later is a score");
    }
  });
  test("analyze --via: the head report plus via and the diagonal; a k path has no outputs", () => {
    const r = run("analyze", "--model", model, "--layer", "1", "--head", "0", "--via", "0.1:k", "--keys", "2", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.via, { layer: 0, head: 1, type: "k" });
    assert.deepEqual(Object.keys(j.diagonal), ["medianRank", "top1", "top10"]);
    assert.equal(j.keys[0].maxOV, null);
    assert.deepEqual(j.keys[0].outputs, []);
    const text = run("analyze", "--model", model, "--layer", "1", "--head", "0", "--via", "0.1:v", "--keys", "1");
    assert.match(text.stdout, /Head 1:0 via 0:1 \(v\)/);
    assert.doesNotMatch(text.stdout, /Queries that prefer key/, "a v path lists no queries");
  });
  test("token --json: every head, sorted by the token's key rank", () => {
    const r = run("token", "--model", model, "--id", "17", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.token.id, 17);
    assert.equal(j.heads.length, 4);
    assert.deepEqual(Object.keys(j.heads[0]), ["layer", "head", "keyRank", "importance", "maxQK", "maxOV", "bestKeys", "selfOutputRank"]);
    for (let i = 1; i < 4; i++) assert.ok(j.heads[i - 1].keyRank <= j.heads[i].keyRank);
  });
  test("bad --via, a path through a later head, text of several tokens: one line each", () => {
    expectOneLineError(run("analyze", "--model", model, "--all", "--via", "0-1k"), 2, /--via must look like L\.H:k/);
    expectOneLineError(
      run("analyze", "--model", model, "--layer", "0", "--head", "0", "--via", "1.0:q"),
      1,
      /L0H0 cannot compose with L1H0: a path runs through a head of an earlier layer/,
    );
    expectOneLineError(run("token", "--model", model, " a b"), 1, /" a b" is 2 tokens \(' a' ' b'\)/);
    expectOneLineError(run("token", "--model", model), 2, /a TEXT argument or --id N/);
  });
});
