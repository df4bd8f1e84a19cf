/**
 * `head-lens explain`: the JSON contract against a float64 computation from the raw weights, the
 * demo's induction circuit in words, and one-line errors with exit 2. And, in process, the issue's
 * acceptance check on the bundled demo model: on `BOS r r`, L1H0 finds the key after the first
 * occurrence at every second-copy position, and the key-side part that most favours it over the
 * other keys is L0H3 (the previous-token head).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { keySideTotals } from "../src/core/whyText";
import { explain } from "../src/worker/explain";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionRuns } from "../src/worker/runText";
import { referenceRun } from "./support/attentionReference";
import { CLI } from "./support/cliProcess";
import { MEDIA_DIR, REPO_ROOT, tempDir } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";
import { mulberry32 } from "./support/random";
import { keptRun } from "./support/keptRun";
import { referenceWhy } from "./support/scoreReference";

const DEMO = join(REPO_ROOT, "models", "demo-attn-2l");
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, "explain", ...args], { encoding: "utf8", timeout: 120_000 });

/** BOS, then 20 random tokens twice. */
function repeated(seed: number): number[] {
  const rand = mulberry32(seed);
  const r = Array.from({ length: 20 }, () => 1 + Math.floor(rand() * 12287));
  return [0, ...r, ...r];
}

interface ExplainJson {
  model: string;
  head: { layer: number; head: number };
  query: number;
  tokens: { id: number; token: string }[];
  components: string[];
  keys: { position: number; score: number; weight: number; terms: number[][]; relative: number[][] }[];
  sources?: { position: number; dla: number }[];
}

describe("head-lens explain", () => {
  test("--json: every key's terms, score and weight, and the sources, equal a float64 computation", () => {
    const raw = randomWeights({ V: 60, D: 16, H: 2, E: 8, L: 3, seed: 31, name: "why-model" });
    const dir = writeModelDir(join(tempDir(), "why-model"), raw);
    const ids = [4, 9, 11, 9, 11, 2, 7];
    const r = cli("--model", dir, "--tokens", ids.join(","), "--head", "2.1", "--query", "4", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as ExplainJson;
    const weights = loadLocalModel(dir).weights;
    const want = referenceWhy(weights, referenceRun(weights, ids), ids, 2, 1, 4);
    assert.equal(out.model, "why-model");
    assert.deepEqual(out.head, { layer: 2, head: 1 });
    assert.equal(out.query, 4);
    assert.deepEqual(
      out.tokens.map((t) => t.id),
      ids,
    );
    assert.deepEqual(out.components, ["embed", "pos", "L0H0", "L0H1", "L1H0", "L1H1", "bias"]);
    assert.deepEqual(
      out.keys.map((k) => k.position),
      [0, 1, 2, 3, 4],
    );
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    out.keys.forEach((k, j) => {
      near(k.score, want.scores[j], `score ${j}`);
      near(k.weight, want.weights[j], `weight ${j}`);
      k.terms.forEach((row, c) => row.forEach((t, c2) => near(t, want.terms[j][c][c2], `term ${j} ${c} ${c2}`)));
    });
    assert.ok(out.sources && want.sources);
    out.sources.forEach((s, j) => near(s.dla, want.sources![j], `source ${j}`));

    const one = JSON.parse(
      cli("--model", dir, "--tokens", ids.join(","), "--head", "L2H1", "--query", "4", "--key", "3", "--json").stdout,
    ) as ExplainJson;
    assert.deepEqual(
      one.keys.map((k) => k.position),
      [3],
    );
    const last = JSON.parse(
      cli("--model", dir, "--tokens", ids.join(","), "--head", "0.0", "--query", "6", "--json").stdout,
    ) as ExplainJson;
    assert.equal(last.sources, undefined, "no sources at the last position (no next token)");
  });

  test("text: the demo's induction circuit in words, the query's strongest key by default", () => {
    const ids = repeated(5);
    const q = 33; // a second-copy position: its token first appeared at q − 20, the key after it is q − 19
    const r = cli("--tokens", ids.join(","), "--head", "1.0", "--query", String(q));
    assert.equal(r.status, 0, r.stderr);
    const tokens = (JSON.parse(cli("--tokens", ids.join(","), "--head", "1.0", "--query", "0", "--json").stdout) as ExplainJson).tokens;
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], `demo-attn-2l L1H0: query ${q} ${tokens[q].token} → key ${q - 19} ${tokens[q - 19].token}`);
    const first = lines.find((l) => l.includes("query ←"))!;
    assert.match(first, new RegExp(`key ← L0H3 \\(moved ${escape(tokens[q].token)} from position ${q - 20}\\)`));
    assert.match(r.stdout, /direct logit attribution at 33 to the next token/);
  });

  test("a head or position the run does not have exits 2 with one line", () => {
    for (const [args, msg] of [
      [["--head", "2.0", "--query", "1"], /no head L2H0 in this model \(2 layers × 4 heads\)/],
      [["--head", "1.0", "--query", "3"], /query position 3 is outside the text's 3 tokens/],
      [["--head", "1.0", "--query", "1", "--key", "2"], /--key 2 is after --query 1/],
      [["--head", "one", "--query", "1"], /--head must be LAYER.HEAD/],
      [["--query", "1"], /say which head/],
    ] as const) {
      const r = cli("--tokens", "0,5,6", ...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(r.stdout, "");
    }
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("why on demo-attn-2l, BOS r r: the induction head's key comes through the previous-token head", () => {
  const backend = OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
  after(async () => (await backend).dispose());
  const runs = new AttentionRuns();
  const store = new ModelStore(MEDIA_DIR);

  test("L1H0 at every second-copy position: the key after the first occurrence, favoured most by L0H3 on the key side", async () => {
    let found = 0,
      byL0H3 = 0,
      total = 0;
    for (const seed of [11, 12, 13]) {
      const ids = repeated(seed);
      const runId = await keptRun({ store, runs, backend }, DEMO, ids);
      for (let q = 21; q < ids.length; q++) {
        const target = ids.indexOf(ids[q]) + 1; // the key after the token's first occurrence
        const r = explain({ runId, layer: 1, head: 0, query: q, key: target }, runs);
        const all = explain({ runId, layer: 1, head: 0, query: q }, runs);
        total++;
        if (all.strongestKey === target) found++;
        const totals = keySideTotals(r.relative, r.components.length);
        if (r.components[totals.indexOf(Math.max(...totals))] === "L0H3") byL0H3++;
      }
    }
    assert.equal(found, total, `the strongest key is the one after the first occurrence at ${found} of ${total} positions`);
    assert.ok(byL0H3 >= 0.9 * total, `L0H3 favours that key most at ${byL0H3} of ${total} positions`);
  });
});
