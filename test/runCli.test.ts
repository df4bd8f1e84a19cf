/** `head-lens run`: the JSON contract, the text report, and one-line errors. */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { referenceRun } from "./support/attentionReference";
import { REPO_ROOT, tempDir } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

const CLI = join(REPO_ROOT, "dist", "cli.js");
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, "run", ...args], { encoding: "utf8", timeout: 120_000 });

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
