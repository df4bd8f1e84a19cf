/**
 * The training timeline end to end through the CLI (issue #24): a hub repo with checkpoints served by
 * the stand-in (LFS files on another host, ranges, the tree API paginated), and a model folder with
 * checkpoints/. Every entry equals a float64 computation from the checkpoint's raw weights
 * (support/metricsReference.ts); the light run reads at most 10 % of each checkpoint (the stand-in's
 * log), a second run and an offline run read nothing; hostile listings are refused or ignored.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeSafetensors } from "../src/core/safetensors";
import { ModelWeights, weightsToNamedTensors } from "../src/core/weights";
import { checkpointWeights, torchStateDict, writeCheckpointRepo } from "./support/checkpointFixtures";
import { CLI, runCliAsync } from "./support/cliProcess";
import { spawn } from "node:child_process";
import { tempDir } from "./support/engine";
import { FakeHub, startFakeHub } from "./support/fakeHub";
import { referenceMetrics } from "./support/metricsReference";

const REPO = "NeelNanda/Attn_Only_2L512W_C4_Code";
const LABELS = [0, 2000, 5000, 20_000, 60_000, 200_000];
/** The fixture tokenizer's BOS (<|BOS|>), as the converted model has it. */
const BOS = 1;
type Entry = { label: number; file: string; heads: Record<string, number>[]; composition: Record<string, number[][][][]> };

function assertMatchesReference(entry: Entry, w: ModelWeights, bos: number, full = false) {
  const ref = referenceMetrics(w, bos);
  assert.equal(entry.heads.length, ref.heads.length);
  entry.heads.forEach((h, i) => {
    for (const k of ["prevToken", "induction", "duplicateToken", "bos"] as const)
      assert.ok(Math.abs(h[k] - ref.heads[i][k]) <= 1e-4, `${entry.file} L${h.layer}H${h.head} ${k}: ${h[k]} vs ${ref.heads[i][k]}`);
    assert.equal("copying" in h, full, `copying only with --metrics full (${entry.file})`);
  });
  for (const mode of ["q", "k", "v"] as const)
    ref.composition[mode].forEach((a, l1) =>
      a.forEach((b, h1) =>
        b.forEach((row, l2) =>
          row.forEach((want, h2) => {
            const got = entry.composition[mode][l1][h1][l2][h2];
            assert.ok(Math.abs(got - want) <= 1e-4, `${entry.file} ${mode} L${l1}H${h1}→L${l2}H${h2}: ${got} vs ${want}`);
          }),
        ),
      ),
    );
}

describe("timeline of a hub model's checkpoints", () => {
  let hub: FakeHub, env: NodeJS.ProcessEnv, cache: string, root: string, weights: ModelWeights[];
  const sizes = new Map<string, { label: number; size: number }>(); // CDN object (sha256) → checkpoint
  before(async () => {
    root = tempDir("head-lens-timeline-hub-");
    weights = writeCheckpointRepo(root, REPO, LABELS);
    for (const f of readdirSync(join(root, REPO, "checkpoints"))) {
      const body = readFileSync(join(root, REPO, "checkpoints", f));
      sizes.set(createHash("sha256").update(body).digest("hex"), { label: Number(/_(\d+)\.pth$/.exec(f)![1]), size: body.length });
    }
    hub = await startFakeHub(root, "t");
    hub.faults.extraTree = () => [
      "checkpoints/../../x_1.pth",
      "checkpoints/notes.txt",
      "checkpoints/run_final.pth",
      "checkpoints/sub/a_5.pth",
    ];
    cache = tempDir("head-lens-timeline-cache-");
    env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(cache, "hub"), XDG_CACHE_HOME: cache, HF_HUB_OFFLINE: "" };
  });
  after(async () => {
    await hub.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  test("light: N checkpoints spread in log space, each equal to the reference, ≤ 10 % of each file read", async () => {
    const r = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "4", "--json"], env);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { model: string; labelType: string; checkpoints: Entry[] };
    assert.equal(j.model, "attn-only-2l");
    assert.equal(j.labelType, "step", "labels ≤ 1e9 are steps (TransformerLens's rule)");
    const labels = j.checkpoints.map((c) => c.label);
    assert.equal(labels.length, 4);
    assert.deepEqual(
      [...labels].sort((a, b) => a - b),
      labels,
      "ascending",
    );
    assert.equal(labels[0], 0);
    assert.equal(labels.at(-1), 200_000);
    for (const c of j.checkpoints) assertMatchesReference(c, weights[LABELS.indexOf(c.label)], BOS);
    // What the stand-in's CDN sent for each checkpoint, against its size.
    const read = new Map<number, number>();
    for (const q of hub.requests.filter((q) => q.host === "cdn" && q.method === "GET")) {
      const ckpt = sizes.get(q.path.split("/").pop()!);
      if (ckpt) read.set(ckpt.label, (read.get(ckpt.label) ?? 0) + (q.bytes ?? 0));
    }
    assert.deepEqual(
      [...read.keys()].sort((a, b) => a - b),
      labels,
      "only the chosen checkpoints were read",
    );
    for (const [label, bytes] of read) {
      const size = [...sizes.values()].find((s) => s.label === label)!.size;
      assert.ok(bytes <= 0.1 * size, `checkpoint ${label}: ${bytes} of ${size} bytes read (${((100 * bytes) / size).toFixed(1)} %)`);
    }
    assert.ok(!hub.requests.some((q) => q.host === "cdn" && q.range === undefined), "every checkpoint read is a range");
    // The hostile and odd entries are named once on stderr and never fetched or written.
    assert.match(r.stderr, /ignored "checkpoints\/\.\.\/\.\.\/x_1\.pth": not a plain file name/);
    assert.match(r.stderr, /ignored "checkpoints\/notes\.txt"/);
    assert.ok(!hub.requests.some((q) => q.path.includes("x_1.pth") || q.path.includes("notes.txt")));
    assert.ok(!existsSync(join(cache, "x_1.pth")) && !existsSync(join(cache, "..", "x_1.pth")));

    const before = hub.requests.length;
    const again = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "4", "--json"], env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, r.stdout, "a second run gives the same timeline");
    assert.deepEqual(
      hub.requests.slice(before).filter((q) => q.host === "cdn"),
      [],
      "a second run reads no checkpoint byte",
    );
    const afterSecond = hub.requests.length;
    const offline = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "4", "--json"], {
      ...env,
      HF_HUB_OFFLINE: "1",
    });
    assert.equal(offline.status, 0, offline.stderr);
    assert.equal(offline.stdout, r.stdout, "offline, from the cache");
    assert.equal(hub.requests.length, afterSecond, "offline asks the hub nothing");
  });

  test("each entry is what metrics --json --checkpoint gives; full adds copying, from the whole file", async () => {
    const light = JSON.parse((await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "2", "--json"], env)).stdout);
    const m = await runCliAsync(["metrics", "--model", "attn-only-2l", "--checkpoint", "200000", "--json"], env);
    assert.equal(m.status, 0, m.stderr);
    const metrics = JSON.parse(m.stdout);
    assert.equal(metrics.model, "attn-only-2l@200000", "the checkpoint is named after its label");
    const last = light.checkpoints.at(-1);
    assert.equal(last.label, 200_000);
    const strip = (h: Record<string, number>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== "copying"));
    metrics.heads.forEach((h: Record<string, number>, i: number) =>
      Object.entries(strip(h)).forEach(([k, v]) => assert.ok(Math.abs(last.heads[i][k] - v) <= 1e-6, `${k}: ${last.heads[i][k]} vs ${v}`)),
    );
    for (const mode of ["q", "k", "v"])
      (metrics.composition[mode] as number[][][][]).flat(3).forEach((v, i) => {
        const got = (last.composition[mode] as number[][][][]).flat(3)[i];
        assert.ok(Math.abs(got - v) <= 1e-6, `${mode}-composition #${i}: ${got} vs ${v}`);
      });
    const full = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "2", "--metrics", "full", "--json"], env);
    assert.equal(full.status, 0, full.stderr);
    const fullLast = JSON.parse(full.stdout).checkpoints.at(-1);
    assertMatchesReference(fullLast, weights.at(-1)!, BOS, true);
    metrics.heads.forEach((h: Record<string, number>, i: number) => assert.equal(fullLast.heads[i].copying, h.copying));
  });

  test("an interrupted run resumes: what was done is not read again", async () => {
    const fresh = { ...env, XDG_CACHE_HOME: tempDir("head-lens-timeline-resume-") };
    const first = hub.requests.length;
    const done: string[] = [];
    await new Promise<void>((resolve) => {
      const p = spawn(process.execPath, [CLI, "timeline", "--model", "attn-only-2l", "--checkpoints", "all", "--json"], { env: fresh });
      p.stderr.on("data", (d: Buffer) => {
        for (const m of d.toString().matchAll(/(checkpoints\/\S+) done/g)) done.push(m[1]);
        if (done.length >= 2) p.kill("SIGKILL"); // as a closed terminal or a crash would stop it
      });
      p.on("close", () => resolve());
    });
    assert.ok(done.length >= 2 && done.length < LABELS.length, `stopped after ${done.length} checkpoints`);
    const objectOf = (file: string) =>
      createHash("sha256")
        .update(readFileSync(join(root, REPO, file)))
        .digest("hex");
    const before = hub.requests.length;
    const r = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "all", "--json"], fresh);
    assert.equal(r.status, 0, r.stderr);
    const again = hub.requests.slice(before).filter((q) => q.host === "cdn");
    for (const f of done) assert.ok(!again.some((q) => q.path.endsWith(objectOf(f))), `${f} was not read again`);
    assert.ok(
      hub.requests.slice(first, before).some((q) => q.host === "cdn"),
      "the first run did read",
    );
    const j = JSON.parse(r.stdout);
    assert.deepEqual(
      j.checkpoints.map((c: Entry) => c.label),
      LABELS,
    );
    j.checkpoints.forEach((c: Entry) => assertMatchesReference(c, weights[LABELS.indexOf(c.label)], BOS));
  });

  test("a listing of 10⁶ entries is refused with one line; bad flags are usage errors", async () => {
    hub.faults.extraTree = function* () {
      for (let i = 0; i < 1_000_000; i++) yield `checkpoints/spam_${i}.pth`;
    };
    try {
      const r = await runCliAsync(["timeline", "--model", "attn-only-2l", "--revision", hub.commitOf(REPO)], env);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^head-lens: NeelNanda\/Attn_Only_2L512W_C4_Code\/checkpoints: the listing has more than 20000 entries.*refused\n$/,
      );
    } finally {
      hub.faults.extraTree = () => [];
    }
    const bad = await runCliAsync(["timeline", "--model", "attn-only-2l", "--checkpoints", "0"], env);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--checkpoints must be a count ≥ 1 or "all"/);
    const missing = await runCliAsync(["metrics", "--model", "attn-only-2l", "--checkpoint", "7", "--json"], env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no checkpoint labelled 7 \(it has 6: 0, 2000, 5000, 20000, 60000, 200000\)/);
  });
});

describe("timeline of a model folder's checkpoints/", () => {
  let dir: string, weights: ModelWeights[];
  const labels = [10, 100, 1000];
  before(() => {
    dir = tempDir("head-lens-timeline-folder-");
    weights = labels.map((_, i) => checkpointWeights(300 + i, { V: 700, D: 32, H: 4, E: 8, L: 2, bos: 0 }, 64));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...weights[0].config, model_name: "tiny-history" }));
    writeFileSync(
      join(dir, "model.safetensors"),
      writeSafetensors(weightsToNamedTensors(weights[2]).map(([name, t]) => ({ name, dtype: "F32", ...t }))),
    );
    mkdirSync(join(dir, "checkpoints"));
    const st = (w: ModelWeights) => writeSafetensors(weightsToNamedTensors(w).map(([name, t]) => ({ name, dtype: "F32", ...t })));
    writeFileSync(join(dir, "checkpoints", "tiny_10.safetensors"), st(weights[0]));
    writeFileSync(join(dir, "checkpoints", "tiny_100.pth"), torchStateDict(weights[1]));
    writeFileSync(join(dir, "checkpoints", "tiny_1000.safetensors"), st(weights[2]));
    writeFileSync(join(dir, "checkpoints", "tiny_abc.pth"), "not a checkpoint");
    writeFileSync(join(dir, "checkpoints", ".hidden_5.pth"), "hidden");
    mkdirSync(join(dir, "checkpoints", "folder_7.pth"));
    symlinkSync(join(dir, "checkpoints", "gone.pth"), join(dir, "checkpoints", "dangling_9.pth"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(".pth and .safetensors checkpoints, each equal to the reference; --checkpoint opens one for every command", async () => {
    const cache = tempDir("head-lens-timeline-folder-cache-");
    const env = { ...process.env, XDG_CACHE_HOME: cache, HF_HUB_OFFLINE: "1" };
    try {
      const r = await runCliAsync(["timeline", "--model", dir, "--checkpoints", "all", "--json"], env);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepEqual(
        j.checkpoints.map((c: Entry) => c.label),
        labels,
      );
      j.checkpoints.forEach((c: Entry, i: number) => assertMatchesReference(c, weights[i], 0));
      assert.match(r.stderr, /ignored "checkpoints\/tiny_abc\.pth": not <name>_<number>\.pth/);
      assert.match(r.stderr, /ignored "checkpoints\/\.hidden_5\.pth": not a plain file name/);
      assert.match(r.stderr, /ignored "checkpoints\/folder_7\.pth": not a file/);
      assert.match(r.stderr, /ignored "checkpoints\/dangling_9\.pth": not a file/);
      // What the figures depend on beside the weights is part of the cache key: a new BOS, new figures.
      const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
      writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, bos_token_id: 5 }));
      try {
        const moved = await runCliAsync(["timeline", "--model", dir, "--checkpoints", "all", "--json"], env);
        assert.equal(moved.status, 0, moved.stderr);
        JSON.parse(moved.stdout).checkpoints.forEach((c: Entry, i: number) => assertMatchesReference(c, weights[i], 5));
      } finally {
        writeFileSync(join(dir, "config.json"), JSON.stringify(config));
      }
      const run = await runCliAsync(["run", "--model", dir, "--checkpoint", "100", "--tokens", "0,5,6,7,5,6", "--json"], env);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).model, "tiny-history@100");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
