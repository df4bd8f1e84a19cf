/**
 * `head-lens run --ablate` and `head-lens patch`: the JSON contracts against a float64 computation
 * from the raw weights, the demo's induction circuit in the text outputs (ablating L0H3 takes L1H0's
 * induction on `BOS r r` to 0; patching L1H0 restores most of the gap), and one-line errors, exit 2.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAblation } from "../src/core/ablations";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { interventionRun } from "./support/ablationReference";
import { CLI } from "./support/cliProcess";
import { tempDir } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";
import { mulberry32 } from "./support/random";

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });

/** 15 random demo-model token ids. */
function randomIds(seed: number): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: 15 }, () => 1 + Math.floor(rand() * 12287));
}

describe("head-lens run --ablate and head-lens patch", () => {
  const dir = writeModelDir(
    join(tempDir(), "whatif-model"),
    randomWeights({ V: 60, D: 16, H: 2, E: 8, L: 2, seed: 41, name: "whatif-model" }),
  );
  const w = loadLocalModel(dir).weights;
  const ids = [1, 7, 9, 7, 9, 3, 11];

  test("run --ablate --json: the ablated run's attention and next tokens equal the reference, with the ablation and the baseline", () => {
    const r = cli("run", "--model", dir, "--tokens", ids.join(","), "--ablate", "0.1:mean,0.0>1.1:k", "--json");
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const ablations = [parseAblation("0.1:mean"), parseAblation("0.0>1.1:k")];
    const want = interventionRun(w, ids, { ablations });
    const plain = interventionRun(w, ids);
    assert.deepEqual(out.ablation, [
      { layer: 0, head: 1, kind: "mean", into: null },
      { layer: 0, head: 0, kind: "zero", into: { layer: 1, head: 1, input: "k" } },
    ]);
    for (let l = 0; l < 2; l++)
      for (let h = 0; h < 2; h++)
        for (let i = 0; i < ids.length; i++)
          for (let j = 0; j <= i; j++)
            assert.ok(Math.abs(out.attention[l][h][i][j] - want.patterns[l][h][i][j]) < 1e-4, `L${l}H${h}[${i},${j}]`);
    for (let t = 0; t + 1 < ids.length; t++) {
      assert.ok(Math.abs(out.next[t].logprob - want.logProbs[t][ids[t + 1]]) < 1e-4, `ablated log-prob at ${t}`);
      assert.ok(Math.abs(out.baseline.next[t].logprob - plain.logProbs[t][ids[t + 1]]) < 1e-4, `baseline log-prob at ${t}`);
    }
    assert.equal(out.next[ids.length - 1], null);
  });

  test("patch --json: every head's metric equals the reference; --positions adds [L][H][T]", () => {
    const corrupt = [1, 8, 9, 7, 2, 3, 11];
    const r = cli(
      "patch",
      "--model",
      dir,
      "--clean-tokens",
      ids.join(","),
      "--corrupt-tokens",
      corrupt.join(","),
      "--answer-id",
      "5",
      "--wrong-id",
      "6",
      "--positions",
      "--json",
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const T = ids.length;
    const metric = (run: { logits: Float64Array[] }) => run.logits[T - 1][5] - run.logits[T - 1][6];
    const clean = interventionRun(w, ids);
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    assert.equal(out.model, "whatif-model");
    assert.deepEqual([out.answer.id, out.wrong.id], [5, 6]);
    near(out.clean, metric(clean), "clean");
    near(out.corrupt, metric(interventionRun(w, corrupt)), "corrupt");
    for (let l = 0; l < 2; l++)
      for (let h = 0; h < 2; h++) {
        near(
          out.heads[l][h],
          metric(interventionRun(w, corrupt, { patch: { layer: l, head: h, from: clean.results, at: () => true } })),
          `L${l}H${h}`,
        );
        near(
          out.positions[l][h][1],
          metric(interventionRun(w, corrupt, { patch: { layer: l, head: h, from: clean.results, at: (t) => t === 1 } })),
          `L${l}H${h}@1`,
        );
      }
  });

  test("on demo-attn-2l, BOS r r: ablating L0H3 takes L1H0's induction to 0; patching L1H0 restores most of the gap", () => {
    const r = randomIds(77);
    const rr = [0, ...r, ...r].join(",");
    const out = cli("run", "--tokens", rr, "--ablate", "0.3");
    assert.equal(out.status, 0, out.stderr);
    const m = /L1H0 induction (\d\.\d\d) → (\d\.\d\d)/.exec(out.stdout);
    assert.ok(m, out.stdout.split("\n").slice(0, 4).join("\n"));
    assert.ok(Number(m[1]) > 0.3 && Number(m[2]) < 0.05, `L1H0 induction ${m[1]} → ${m[2]}`);
    const loss = /on tokens that occurred earlier in the text (\d+\.\d+) → (\d+\.\d+)/.exec(out.stdout)!;
    assert.ok(Number(loss[2]) > Number(loss[1]) + 2, `the loss on the repeated tokens rises: ${loss[0]}`);
    const other = randomIds(78);
    const p = cli(
      "patch",
      "--clean-tokens",
      [0, ...r, ...r.slice(0, -1)].join(","),
      "--corrupt-tokens",
      [0, ...other, ...r.slice(0, -1)].join(","),
      "--json",
    );
    assert.equal(p.status, 0, p.stderr);
    const grid = JSON.parse(p.stdout);
    const share = (x: number) => (x - grid.corrupt) / (grid.clean - grid.corrupt);
    const cells = grid.heads.flatMap((row: number[], l: number) => row.map((x, h) => ({ name: `L${l}H${h}`, s: share(x) })));
    cells.sort((a: { s: number }, b: { s: number }) => b.s - a.s);
    assert.equal(cells[0].name, "L1H0", JSON.stringify(cells));
    assert.ok(cells[0].s > 0.5, `L1H0 restores ${cells[0].s} of the gap`);
  });

  test("bad input exits 2 with one line", () => {
    for (const [args, msg] of [
      [["run", "--tokens", "0,5,6", "--ablate", "2.0"], /cannot ablate L2H0: the model has 2 layers × 4 heads/],
      [["run", "--tokens", "0,5,6", "--ablate", "1.0>0.3:k"], /a head only reads the results of earlier layers/],
      [["run", "--tokens", "0,5,6", "--ablate", "0.3>1.0"], /--ablate: ablation "0.3>1.0" is not L\.H/],
      [["patch", "--clean-tokens", "0,5,6", "--corrupt-tokens", "0,5"], /the clean text is 3 tokens and the corrupted one 2/],
      [["patch", "--clean", "", "--corrupt", "a"], /the text is empty/],
      [["patch", "--clean-tokens", "0,5,6"], /say what the corrupt run is/],
      [["run", "--tokens", "0,5,6", "--ablate", "0.3,0.3:mean"], /L0H3 is ablated twice/],
      [["run", "--tokens", "0,5,6", "--ablate", ","], /give at least one ablation/],
      [
        ["patch", "--clean-tokens", "0,5,6", "--corrupt-tokens", "0,5,7", "--positions"],
        /--positions gives \[L\]\[H\]\[T\] figures: add --json/,
      ],
    ] as const) {
      const r = cli(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});
