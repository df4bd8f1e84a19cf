/**
 * Induction on natural code: in Python files that define a function and call it later (as people
 * write code, test/fixtures/natural-code/), demo-attn-2l's L1H0 attends from each token of the
 * later occurrence of the name to the token after the same token in the definition. The issue's
 * criterion: at least 0.3 of its attention there, on average.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AttentionEvent, AttentionResult } from "../src/protocol/attention";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { AttentionRuns, runText } from "../src/worker/runText";
import { MEDIA_DIR, REPO_ROOT } from "./support/engine";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "natural-code");
/** HEAD_LENS_INDUCTION_MODEL measures another export of the model (training/: annealing candidates). */
const MODEL = process.env.HEAD_LENS_INDUCTION_MODEL ?? join(REPO_ROOT, "models", "demo-attn-2l");

/** Weights of L1H0 from the second occurrence's tokens to the token after their first occurrence. */
export function inductionWeights(text: string, run: AttentionResult, pattern: Float32Array): { name: string; weights: number[] } {
  const name = [...text.matchAll(/def (\w+)\(/g)]
    .map((m) => m[1])
    .find((n) => text.indexOf(n, text.indexOf(`def ${n}(`) + 4 + n.length) >= 0)!;
  const first = text.indexOf(`def ${name}(`) + 4,
    second = text.indexOf(name, first + name.length);
  const T = run.tokens.length;
  const cover = (at: number) =>
    run.tokens
      .map((t, i) => ({ t, i }))
      .filter(({ t }) => t.end > at && t.start < at + name.length && t.end > t.start)
      .map(({ i }) => i);
  const a = cover(first),
    b = cover(second);
  assert.equal(a.length, b.length, `${name}: both occurrences are tokenized alike`);
  return { name, weights: b.map((q, k) => pattern[q * T + a[k] + 1]) };
}

test("demo-attn-2l's L1H0 puts ≥ 0.3 of its attention on the token after the earlier occurrence of a function's name", async () => {
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: 2 });
  const store = new ModelStore(MEDIA_DIR);
  const all: number[] = [];
  const rows: string[] = [];
  try {
    for (const file of readdirSync(FIXTURES)
      .filter((f) => f.endsWith(".py"))
      .sort()) {
      const text = readFileSync(join(FIXTURES, file), "utf8");
      let patterns: AttentionEvent["patterns"] | undefined;
      const ctx = {
        emit: (e: AttentionEvent) => (patterns = e.patterns),
        signal: new AbortController().signal,
        throwIfCancelled: () => undefined,
      };
      const run = await runText({ modelDir: MODEL, input: { text }, patterns: "full" }, ctx, {
        store,
        runs: new AttentionRuns(),
        backend: async () => backend,
        blockBytes: 12 << 20,
      });
      assert.ok(patterns?.kind === "full");
      const T = run.tokens.length;
      const { name, weights } = inductionWeights(text, run, patterns.layers[1].subarray(0, T * T)); // head 0 of layer 1
      all.push(...weights);
      rows.push(
        `${name.padEnd(15)} ${weights.map((w) => w.toFixed(3)).join(" ")}  mean ${(weights.reduce((x, y) => x + y, 0) / weights.length).toFixed(3)}`,
      );
    }
  } finally {
    await backend.dispose();
  }
  const mean = all.reduce((x, y) => x + y, 0) / all.length;
  console.log(`${rows.join("\n")}\nmean over ${all.length} tokens of ${rows.length} files: ${mean.toFixed(3)}`);
  assert.ok(mean >= 0.3, `mean ${mean.toFixed(3)} < 0.3`);
});
