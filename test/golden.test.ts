/**
 * The CLI's reports on the bundled models are byte-identical to the ones captured before the
 * process-folder restructure (test/golden/, written by the CLI at commit 2a14701; demo-attn-2l's
 * re-written by the same CLI when its weights were annealed on natural text, #13). JSON numbers
 * may differ only in float rounding below 1e-9 relative.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./support/engine";

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "dist", "cli.js"), "analyze", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
const golden = (name: string) => readFileSync(join(REPO_ROOT, "test", "golden", name), "utf8");

test("text reports of every head of both bundled models are byte-identical to the golden files", () => {
  for (const m of ["demo-attn-1l", "demo-attn-2l"])
    assert.equal(cli("--model", join(REPO_ROOT, "models", m), "--all"), golden(`${m}.txt`), m);
  assert.equal(
    cli("--layer", "1", "--head", "0", "--priors", "uniform", "--keys", "7", "--queries", "5", "--outputs", "9"),
    golden("demo-attn-2l-L1H0-uniform.txt"),
  );
});

test("the JSON report of demo-attn-2l equals the golden one (numbers within 1e-9)", () => {
  const close = (a: unknown, b: unknown, path: string): void => {
    if (typeof a === "number" && typeof b === "number")
      assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${path}: ${a} vs ${b}`);
    else if (Array.isArray(a) && Array.isArray(b)) {
      assert.equal(a.length, b.length, path);
      a.forEach((x, i) => close(x, b[i], `${path}[${i}]`));
    } else if (a && b && typeof a === "object" && typeof b === "object") {
      assert.deepEqual(Object.keys(a), Object.keys(b), path);
      for (const k of Object.keys(a)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    } else assert.equal(a, b, path);
  };
  close(JSON.parse(cli("--all", "--json")), JSON.parse(golden("demo-attn-2l.json")), "$");
});
