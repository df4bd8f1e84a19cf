/** `head-lens run`: the JSON contract, the text report, and one-line errors. */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAblation } from "../src/core/ablations";
import { AttentionResult } from "../src/protocol/attention";
import { DEFAULT_BLOCK_BYTES } from "../src/host/cli/options";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { referenceRun } from "./support/attentionReference";
import { REPO_ROOT, tempDir, testEngine } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

const CLI = join(REPO_ROOT, "dist", "cli.js");
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, "run", ...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 256 << 20 });
const DEMO = join(REPO_ROOT, "models", "demo-attn-2l");
/** The natural-code fixtures: more than the demo's n_ctx of 256 tokens, so its attention is 2 × 4 × 256² weights (≈ 5 MB of JSON). */
const CODE = readdirSync(join(REPO_ROOT, "test", "fixtures", "natural-code"))
  .sort()
  .map((f) => readFileSync(join(REPO_ROOT, "test", "fixtures", "natural-code", f), "utf8"))
  .join("\n\n");

/**
 * What run --json printed before it was streamed: one JSON.stringify of plain arrays, built here from
 * the engine's own answer to the same request (the contract of RUN_USAGE, not the CLI's builder).
 */
function wholeRunJson(r: AttentionResult, layers: Float32Array[], baseline?: AttentionResult): string {
  const T = r.tokens.length;
  const six = (x: number) => Number(x.toPrecision(6));
  const next = (run: AttentionResult) => run.next.map((n) => n && { id: n.id, token: n.token, rank: n.rank, logprob: six(n.logProb) });
  const doc: Record<string, unknown> = {
    model: r.model,
    bos: r.bos,
    tokens: r.tokens.map((t) => ({ id: t.id, token: t.token })),
    attention: layers.map((p) =>
      [...Array(r.nHeads).keys()].map((h) => [...Array(T).keys()].map((i) => [...p.slice((h * T + i) * T, (h * T + i + 1) * T)])),
    ),
    top: r.top.map((row) => row.map((p) => ({ id: p.id, token: p.token, p: six(p.p) }))),
    next: next(r),
    dla: [...Array(T).keys()].map((t) =>
      [...Array(r.nLayers).keys()].map((l) =>
        [...Array(r.nHeads).keys()].map((h) => {
          const v = r.dla[(t * r.nLayers + l) * r.nHeads + h];
          return Number.isNaN(v) ? null : six(v);
        }),
      ),
    ),
  };
  if (baseline) {
    doc.ablation = r.ablations.map((a) => ({ layer: a.layer, head: a.head, kind: a.kind, into: a.into ?? null }));
    doc.baseline = { next: next(baseline) };
  }
  return JSON.stringify(doc) + "\n";
}

interface RunJson {
  model: string;
  bos: number | null;
  tokens: { id: number; token: string }[];
  attention: number[][][][];
  top: { id: number; token: string; p: number }[][];
  next: ({ id: number; token: string; rank: number; logprob: number } | null)[];
  dla: (number | null)[][][];
}

describe("head-lens run", () => {
  test("--tokens --json: ids as given, attention [L][H][T][T] equal to a float64 forward pass", () => {
    const dir = writeModelDir(join(tempDir(), "run-model"), randomWeights({ V: 60, D: 16, H: 2, E: 8, L: 2, seed: 12, name: "run-model" }));
    const ids = [1, 7, 9, 7, 9, 3];
    const r = cli("--model", dir, "--tokens", ids.join(","), "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.deepEqual(Object.keys(out), ["model", "bos", "tokens", "attention", "top", "next", "dla"]);
    assert.equal(out.model, "run-model");
    assert.equal(out.bos, null);
    assert.deepEqual(
      out.tokens.map((t) => t.id),
      ids,
    );
    const ref = referenceRun(loadLocalModel(dir).weights, ids);
    assert.equal(out.attention.length, 2);
    out.attention.forEach((layer, l) =>
      layer.forEach((head, h) =>
        head.forEach((row, i) =>
          row.forEach((w, j) => {
            assert.ok(Math.abs(w - ref.patterns[l][h][i][j]) < 1e-4, `L${l}H${h}[${i},${j}]`);
          }),
        ),
      ),
    );
    assert.equal(out.top.length, ids.length);
    assert.equal(out.top[0].length, 5);
    assert.ok(Math.abs(out.top[2][0].p - Math.exp(Math.max(...ref.logProbs[2]))) < 1e-4);
    assert.equal(out.next[ids.length - 1], null);
    assert.equal(out.next[0]!.id, 7);
    assert.ok(Math.abs(out.next[0]!.logprob - ref.logProbs[0][7]) < 1e-4);
    assert.deepEqual(
      out.dla.map((p) => p.length),
      ids.map(() => 2),
    );
    assert.ok(out.dla[ids.length - 1].flat().every((x) => x === null));
    assert.ok(out.dla[0].flat().every((x) => typeof x === "number"));
  });

  test("--text: BOS prepended; the text report lists every head's edges and every position's predictions", () => {
    const r = cli("--text", "a = b\nb = a\n", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.equal(out.model, "demo-attn-2l");
    assert.equal(out.bos, 0);
    assert.equal(out.tokens[0].id, 0);
    const text = cli("--text", "a = b\nb = a\n");
    assert.equal(text.status, 0, text.stderr);
    for (const h of ["L0H0", "L0H3", "L1H0", "L1H3"]) assert.match(text.stdout, new RegExp(`^${h}  \\d+ '`, "m"));
    assert.match(text.stdout, /^demo-attn-2l: \d+ tokens \(BOS prepended\)$/m);
    assert.equal(text.stdout.split("\n").filter((l) => /^\d+ '.*\| /.test(l)).length, out.tokens.length);
  });

  test("--json is written as a stream with exactly the bytes of one JSON.stringify, with and without --ablate", async () => {
    const engine = testEngine(DEFAULT_BLOCK_BYTES); // the CLI's block size: the logits' blocks decide their last bits
    try {
      for (const spec of [undefined, "0.3,0.1:mean>1.2:k"]) {
        const ablations = spec ? spec.split(",").map(parseAblation) : [];
        let layers: Float32Array[] = [];
        const input = { text: CODE };
        const r = await engine.attention(
          { modelDir: DEMO, input, patterns: "full", topK: 5, ablations },
          { onEvent: (e) => e.patterns.kind === "full" && (layers = e.patterns.layers) },
        );
        const baseline = spec ? await engine.attention({ modelDir: DEMO, input, patterns: "thumbnails", topK: 5 }) : undefined;
        const want = wholeRunJson(r, layers, baseline);
        assert.ok(want.length > 4e6, `${want.length} bytes`);
        const out = cli("--model", DEMO, "--text", CODE, "--json", ...(spec ? ["--ablate", spec] : []));
        assert.equal(out.status, 0, out.stderr);
        assert.equal(out.stderr, "");
        assert.ok(
          out.stdout === want,
          `--ablate ${spec}: ${out.stdout.length} bytes printed, ${want.length} expected; first difference at ${firstDifference(out.stdout, want)}`,
        );
      }
    } finally {
      await engine.dispose();
    }
  });

  test("a reader that closes the pipe early (| head -c 100) ends the CLI cleanly: exit 0, nothing on stderr", async () => {
    for (const json of [true, false]) {
      const p = spawn(process.execPath, [CLI, "run", "--model", DEMO, "--text", CODE, ...(json ? ["--json"] : ["--edges", "1000"])]);
      let stderr = "",
        first = "";
      p.stderr.on("data", (d) => (stderr += d));
      const status = await new Promise<number | null>((resolve) => {
        p.stdout.once("data", (d: Buffer) => {
          first = d.subarray(0, 100).toString();
          p.stdout.destroy(); // what head does once it has its 100 bytes
        });
        p.on("close", resolve);
      });
      assert.match(first, json ? /^\{"model":"demo-attn-2l","bos":0,/ : /^demo-attn-2l: 256 tokens/);
      assert.equal(stderr, "", `stderr: ${stderr}`);
      assert.equal(status, 0);
    }
  });

  test("output that cannot be written (a full disk: > /dev/full) exits 1 with one line saying so", () => {
    const full = openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [CLI, "run", "--model", DEMO, "--text", CODE, "--json"], {
        stdio: ["ignore", full, "pipe"],
        encoding: "utf8",
        timeout: 120_000,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^head-lens: cannot write the output \(ENOSPC/);
    } finally {
      closeSync(full);
    }
  });

  test("bad arguments exit 2, bad input exits 1, each with one line", () => {
    const oneLine = (r: ReturnType<typeof cli>, code: number, re: RegExp) => {
      assert.equal(r.status, code, r.stderr);
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, "");
    };
    oneLine(cli(), 2, /--text "…" or --tokens/);
    oneLine(cli("--text", "x", "--tokens", "1"), 2, /one of them/);
    oneLine(cli("--tokens", "1,a"), 2, /comma-separated token ids/);
    oneLine(cli("--text", "x", "--bogus"), 2, /unknown option "--bogus"/);
    oneLine(cli("--tokens", "1,99999"), 1, /token id 99999 is outside the model's vocabulary/);
    oneLine(cli("--text", ""), 1, /the text is empty/);
    oneLine(cli("--model", "/no/such/model", "--text", "x"), 1, /model folder \/no\/such\/model does not exist/);
  });
});

const firstDifference = (a: string, b: string) => {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `${i}: ${JSON.stringify(a.slice(i - 20, i + 20))} vs ${JSON.stringify(b.slice(i - 20, i + 20))}`;
};
