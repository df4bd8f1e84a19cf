/**
 * README's performance table is what `npm run bench:all` last measured: the figures in
 * bench/results/all.json rendered, nothing typed by hand, nothing left stale.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AllResults, performanceTable, TABLE_BEGIN, TABLE_END, withTable } from "../bench/table";
import { REPO_ROOT } from "./support/engine";

test("README's performance table equals the one rendered from bench/results/all.json", () => {
  const results = JSON.parse(readFileSync(join(REPO_ROOT, "bench", "results", "all.json"), "utf8")) as AllResults;
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const shown = readme.slice(readme.indexOf(TABLE_BEGIN), readme.indexOf(TABLE_END) + TABLE_END.length);
  assert.equal(shown, performanceTable(results), "README's table is stale or edited by hand: run `npm run bench:all`");
  for (const id of ["model.trained-like", "model.rss", "path.k", "path.q", "explain", "whatif.zero", "whatif.grid", "timeline.light"])
    assert.ok(
      results.figures.some((f) => f.id === id),
      `bench:all recorded ${id}`,
    );
});

test("a figure is shown with its peer's ratio and whether it met its goal", () => {
  const table = performanceTable({
    date: "2026-01-01",
    machine: "m",
    sgemm: [300, 280],
    figures: [
      { id: "a", what: "a head", value: 1.5, unit: "s", peer: { name: "dense", value: 3 }, goal: "≤ 1.0× dense", met: true },
      { id: "b", what: "a model", value: 0.5, unit: "s", peer: { name: "dense", value: 50 }, goal: "≤ 4 s", met: false },
    ],
  });
  assert.match(table, /\| a head \| \*\*1\.50 s\*\* \| dense: 3\.00 s \(0\.50×\) \| ≤ 1\.0× dense ✓ \|/);
  assert.match(table, /\| a model \| \*\*0\.50 s\*\* \| dense: 50\.00 s \(100\.0× faster\) \| ≤ 4 s ✗ \|/);
  assert.throws(() => withTable("no markers", table), /no <!-- bench:all/);
  assert.equal(withTable(`x\n${TABLE_BEGIN}\nold\n${TABLE_END}\ny`, table), `x\n${table}\ny`);
});
