/**
 * Exact agreement between an engine report and the dense oracle: same ids in the same order, scores
 * within `rel` relative; a different id at a position is accepted only when the oracle's ranking
 * values of the two ids tie within that tolerance.
 */
import assert from "node:assert/strict";
import { HeadReport } from "../../src/core/report";
import { Oracle } from "./denseOracle";

function close(a: number, b: number, rel: number, scale: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-7 * scale;
}

function compareRanked(
  what: string,
  got: { id: number; score: number }[],
  want: { id: number }[],
  rankValue: (id: number) => number,
  score: (id: number) => number,
  rel: number,
): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} entries, oracle has ${want.length}`);
  const scale = Math.max(1e-30, ...want.map((x) => Math.abs(rankValue(x.id))));
  got.forEach((g, i) => {
    const w = want[i];
    if (g.id !== w.id) {
      assert.ok(
        close(rankValue(g.id), rankValue(w.id), rel, scale),
        `${what}[${i}]: id ${g.id} (ranking value ${rankValue(g.id)}) where the oracle has ${w.id} (${rankValue(w.id)}), not a tie`,
      );
    }
    assert.ok(close(g.score, score(g.id), rel, scale), `${what}[${i}] id ${g.id}: score ${g.score}, oracle ${score(g.id)}`);
  });
}

export function assertMatchesOracle(got: HeadReport, oracle: Oracle, rel = 1e-4): void {
  const want = oracle.report;
  assert.equal(got.layer, want.layer);
  assert.equal(got.head, want.head);
  assert.equal(got.bos, want.bos);
  compareRanked(
    `head ${got.layer}:${got.head} keys`,
    got.keys.map((k) => ({ id: k.id, score: k.importance })),
    want.keys,
    (id) => oracle.importance[id],
    (id) => oracle.importance[id],
    rel,
  );
  got.keys.forEach((k, i) => {
    const where = `head ${got.layer}:${got.head} key ${k.id}`;
    assert.ok(close(k.maxQK, oracle.maxQK[k.id], rel, Math.abs(oracle.maxQK[k.id])), `${where}: maxQK ${k.maxQK} vs ${oracle.maxQK[k.id]}`);
    assert.ok(close(k.maxOV, oracle.maxOV[k.id], rel, Math.abs(oracle.maxOV[k.id])), `${where}: maxOV ${k.maxOV} vs ${oracle.maxOV[k.id]}`);
    const col = oracle.qkColumn(k.id);
    const row = oracle.ovRow(k.id);
    // How many queries and outputs a key lists is the oracle's answer too: a report whose lists
    // were cut short must fail here, not set the expectation.
    const n = { queries: want.keys[i].queries.length, outputs: want.keys[i].outputs.length };
    const wantKey = {
      queries: rankIds(
        col.map((x, q) => x * oracle.priorWeight[q]),
        n.queries,
      ),
      outputs: rankIds(row, n.outputs),
    };
    compareRanked(
      `${where} queries`,
      k.queries,
      wantKey.queries,
      (q) => col[q] * oracle.priorWeight[q],
      (q) => col[q],
      rel,
    );
    compareRanked(
      `${where} outputs`,
      k.outputs,
      wantKey.outputs,
      (o) => row[o],
      (o) => row[o],
      rel,
    );
  });
}

function rankIds(values: Float64Array, n: number): { id: number }[] {
  return Array.from(values.keys())
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, n)
    .map((id) => ({ id }));
}
