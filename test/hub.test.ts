import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { HubClient } from "../src/host/hub/hubClient";
import { prepareHubModel } from "../src/host/hub/prepareHubModel";
import { HubModelSpec, convertNeelConfig, hubModel } from "../src/host/hub/knownModels";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { loadPrior } from "../src/worker/loaders/priors";
import { FakeHub, startFakeHub } from "./support/fakeHub";
import { REPO_ROOT, tempDir, testEngine } from "./support/engine";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "hub");
const SPEC: HubModelSpec = {
  name: "attn-only-tiny",
  repo: "NeelNanda/Attn_Only_Tiny_C4_Code",
  layers: 2,
  tokenizerRepo: "NeelNanda/gpt-neox-tokenizer-digits",
};
let hub: FakeHub;
const engine = testEngine();
before(async () => {
  hub = await startFakeHub(FIXTURES);
});
after(async () => {
  await hub.close();
  await engine.dispose();
});
const client = (cacheDir: string, extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}) =>
  new HubClient({ endpoint: hub.url, cacheDir, ...extra });

describe("hub models end to end", () => {
  test("download → parse .pth → process → analysis equals the same model loaded from safetensors", async () => {
    const cache = tempDir(),
      storage = tempDir();
    const progress: number[] = [];
    const dir = await prepareHubModel(SPEC, client(cache), storage, { onProgress: (p) => progress.push(p.received / p.total) });
    assert.ok(progress.length > 0 && progress[progress.length - 1] === 1, "byte progress reached 100 %");
    const ref = join(tempDir(), "reference");
    cpSync(join(FIXTURES, "NeelNanda", "Attn_Only_Tiny_C4_Code", "reference"), ref, { recursive: true });
    cpSync(join(FIXTURES, "NeelNanda", "gpt-neox-tokenizer-digits", "tokenizer.json"), join(ref, "tokenizer.json"));
    const req = (modelDir: string) => ({
      modelDir,
      heads: "all" as const,
      priors: "uniform" as const,
      sizes: { nKeys: 4, nQueries: 6, nOutputs: 6 },
    });
    const [fromHub, fromSafetensors] = [await engine.analyze(req(dir)), await engine.analyze(req(ref))];
    assert.equal(fromHub.length, 8);
    assert.deepEqual(
      fromHub.map((r) => r.keys),
      fromSafetensors.map((r) => r.keys),
    );
    assert.equal(fromHub[0].bos, 1, "BOS is <|BOS|> = 1");
    // The standard HF cache layout, reusable by Python.
    const repoDir = join(cache, "models--NeelNanda--Attn_Only_Tiny_C4_Code");
    const commit = readFileSync(join(repoDir, "refs", "main"), "utf8");
    assert.equal(commit, hub.commitOf(SPEC.repo));
    const pointer = join(repoDir, "snapshots", commit, "model_final.pth");
    assert.ok(lstatSync(pointer).isSymbolicLink());
    assert.match(readlinkSync(pointer), /^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    assert.deepEqual(
      readdirSync(join(repoDir, "blobs")).filter((f) => f.endsWith(".incomplete")),
      [],
    );
  });

  test("an existing cache entry is reused with no network; offline with nothing cached says so", async () => {
    const cache = tempDir(),
      storage = tempDir();
    await prepareHubModel(SPEC, client(cache), storage);
    const before = hub.requests.length;
    const offline = new HubClient({ endpoint: "http://127.0.0.1:9", cacheDir: cache, offline: true });
    const dir = await prepareHubModel(SPEC, offline, tempDir());
    assert.equal(hub.requests.length, before, "no request reached the hub");
    assert.equal(loadLocalModel(dir).config.n_layers, 2);
    const unreachable = new HubClient({ endpoint: "http://127.0.0.1:9", cacheDir: cache });
    assert.ok(existsSync(await unreachable.download(SPEC.repo, "main", "model_final.pth")), "network down: the cached file is used");
    await assert.rejects(
      prepareHubModel(SPEC, new HubClient({ endpoint: hub.url, cacheDir: tempDir(), offline: true }), storage),
      /HF_HUB_OFFLINE is set and the file list is not in the cache/,
    );
  });

  test("a body cut short resumes with an HTTP Range request", async () => {
    const cache = tempDir();
    hub.faults.cutShort = 1;
    const c = client(cache);
    await assert.rejects(c.download(SPEC.repo, "main", "model_final.pth"), /interrupted|ended after/);
    const partial = readdirSync(join(cache, "models--NeelNanda--Attn_Only_Tiny_C4_Code", "blobs")).find((f) => f.endsWith(".incomplete"));
    assert.ok(partial, "the partial download is kept for resuming");
    const path = await c.download(SPEC.repo, "main", "model_final.pth");
    assert.ok(
      hub.requests.some((r) => r.host === "cdn" && r.range && /^bytes=[1-9]\d*-$/.test(r.range)),
      "resumed with Range",
    );
    assert.deepEqual(readFileSync(path), readFileSync(join(FIXTURES, "NeelNanda", "Attn_Only_Tiny_C4_Code", "model_final.pth")));
  });

  test("a corrupted body is detected, deleted and never used", async () => {
    const cache = tempDir();
    hub.faults.corrupt = 1;
    const c = client(cache);
    await assert.rejects(c.download(SPEC.repo, "main", "model_final.pth"), /corrupt .*it was deleted/);
    assert.deepEqual(readdirSync(join(cache, "models--NeelNanda--Attn_Only_Tiny_C4_Code", "blobs")), []);
    assert.equal(c.cachedFile(SPEC.repo, "main", "model_final.pth"), undefined);
    await c.download(SPEC.repo, "main", "model_final.pth");
  });

  test("a gated repo needs HF_TOKEN; a missing repo is reported as not found", async () => {
    hub.faults.gated.add(SPEC.repo);
    try {
      await assert.rejects(prepareHubModel(SPEC, client(tempDir()), tempDir()), /is gated: accept its terms .*HF_TOKEN/);
      const path = await client(tempDir(), { token: "hf_test_token" }).download(SPEC.repo, "main", "model_final.pth");
      assert.ok(existsSync(path));
    } finally {
      hub.faults.gated.delete(SPEC.repo);
    }
    await assert.rejects(client(tempDir()).listFiles("NeelNanda/No_Such_Model", "main"), /not found/);
  });
});

describe("hub model table and config", () => {
  test("TransformerLens names resolve to the NeelNanda repos", () => {
    assert.equal(hubModel("attn-only-2l")?.repo, "NeelNanda/Attn_Only_2L512W_C4_Code");
    assert.equal(hubModel("attn-only-4l")?.layers, 4);
  });
  test("Neel's config.json maps like TransformerLens's convert_neel_model_config", () => {
    const raw = JSON.parse(readFileSync(join(FIXTURES, "NeelNanda", "Attn_Only_Tiny_C4_Code", "config.json"), "utf8"));
    const c = convertNeelConfig(raw, "config.json", "tiny");
    assert.equal(c.normalization_type, "LN");
    assert.equal(c.positional_embedding_type, "standard");
    assert.equal(convertNeelConfig({ ...raw, shortformer_pos: true }, "c", "t").positional_embedding_type, "shortformer");
    const { normalization: _dropped, ...withoutNormalization } = raw;
    assert.equal(convertNeelConfig({ ...withoutNormalization, normalization_type: "LNPre" }, "c", "t").normalization_type, "LNPre");
  });
  test("the neox-digits tokenizer splits digits one per token and BOS is <|BOS|> = 1", async () => {
    const dir = await prepareHubModel(SPEC, client(tempDir()), tempDir());
    const m = loadLocalModel(dir);
    assert.equal(m.vocab.bos, 1);
    assert.equal(m.vocab.display(1), "'<|BOS|>'");
    const ids = m.vocab.encode("year 2024");
    assert.deepEqual(
      ids.slice(-4).map((i) => m.vocab.display(i)),
      ["'2'", "'0'", "'2'", "'4'"],
    );
    // The bundled prior reaches this tokenizer by re-tokenizing the GPT-2 corpus counts.
    const prior = loadPrior("bundled", { vocab: m.vocab, mediaDir: join(REPO_ROOT, "media") });
    assert.match(prior.source, /re-tokenized/);
    const space = m.vocab.encode(" ")[0],
      rare = m.vocab.encode("\u00ff")[0];
    assert.ok(prior.p[space] > 100 * prior.p[rare], "common pieces get far more mass than rare bytes");
  });
});
