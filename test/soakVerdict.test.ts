/**
 * The soak benchmark's criteria (bench/soakVerdict.ts) on made-up series whose verdict is known: a
 * flat noisy memory passes; a heap that leaks slowly, or only late, fails; an RSS spike above 10 %
 * fails even when the last sample is back down.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { judge, Sample, slope } from "../bench/soakVerdict";

const MiB = 2 ** 20;

/** Samples every 10 runs from 0 to 500; each series given in MiB as a function of the run. */
function soak(f: { rss?: (run: number) => number; host?: (run: number) => number; worker?: (run: number) => number }): Sample[] {
  const out: Sample[] = [];
  for (let run = 0; run <= 500; run += 10) {
    // ±0.2 % of deterministic noise, as GC leaves it.
    const noise = 1 + 0.002 * Math.sin(run * 1.7);
    const isolate = (mib: number) => ({ heap: mib * MiB * noise, external: 0, arrayBuffers: 0 });
    const rss = (f.rss?.(run) ?? 1000) * MiB * noise;
    out.push({ run, rssBeforeGc: rss, rss, host: isolate(f.host?.(run) ?? 32), worker: isolate(f.worker?.(run) ?? 28), page: 0, at: run });
  }
  return out;
}

const verdictOf = (samples: Sample[], name: string) => judge(samples).series.find((s) => s.name.startsWith(name))!;

test("the slope is the least-squares line's", () => {
  assert.equal(slope([0, 1, 2, 3], [1, 3, 5, 7]), 2);
  assert.ok(Math.abs(slope([0, 10, 20], [5, 4, 6]) - 0.05) < 1e-12);
});

test("flat memory with GC noise passes", () => {
  const v = judge(soak({}));
  assert.ok(v.pass, JSON.stringify(v.series));
});

test("a heap that grows 2 % of its level every 50 runs fails (final and slope)", () => {
  const s = verdictOf(soak({ host: (run) => 32 * (1 + (0.02 * run) / 50) }), "extension host JS heap");
  assert.equal(s.pass, false);
  assert.ok(s.final / s.level20 > 1.1);
  assert.ok(Math.abs(s.slopePer100 / MiB - 32 * 0.04) < 0.05, `${s.slopePer100 / MiB} MiB per 100 runs`);
});

test("a worker heap that starts leaking in the last 100 runs fails on its slope alone", () => {
  const s = verdictOf(soak({ worker: (run) => 28 * (1 + Math.max(0, run - 400) * 0.0004) }), "engine worker JS heap");
  assert.ok(s.final / s.level20 < 1.1, "the final level alone is within 10 %");
  assert.equal(s.pass, false);
  assert.equal(judge(soak({ worker: (run) => 28 * (1 + Math.max(0, run - 400) * 0.0004) })).pass, false);
});

test("an RSS that climbs 15 % and comes back fails; one that stays 8 % up passes", () => {
  const spike = verdictOf(soak({ rss: (run) => (run === 250 ? 1150 : 1000) }), "extension host RSS (as sampled)");
  assert.equal(spike.pass, false);
  const up = verdictOf(soak({ rss: (run) => (run >= 30 ? 1080 : 1000) }), "extension host RSS (as sampled)");
  assert.equal(up.pass, true);
});

test("the warm-up before run 20 is not part of the slope: a 60-run soak that settles by run 20 passes", () => {
  const short = soak({ host: (run) => (run < 20 ? 40 : 32) }).filter((s) => s.run <= 60);
  const s = verdictOf(short, "extension host JS heap");
  assert.ok(Math.abs(s.slopePer100) < 0.01 * MiB && s.pass, JSON.stringify(s));
});

test("a soak of fewer than 20 runs has no reference level: refused", () => {
  assert.throws(() => judge(soak({}).filter((s) => s.run < 20)), /no sample at run 20/);
});
