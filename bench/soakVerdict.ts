/**
 * The soak benchmark's figures and criteria (bench/soak.ts).
 * - RSS (the extension host process, engine worker included) "within 10 % of its level after the
 *   first 20 runs": every sample from run 20 on ≤ 1.10 × the run-20 sample; judged both on the RSS as
 *   the process holds it and right after the forced GC.
 * - A JS heap (after a forced GC) is "flat" when the final sample ≤ 1.10 × the run-20 sample and the
 *   least-squares slope over the last 100 runs adds at most 2 % of the run-20 level per 100 runs
 *   (a leak of 1 % of the heap per 50 runs would fail it). Judged for the extension host's isolate
 *   and the engine worker's.
 */
import type { Figure } from "./record";

/** One isolate's memory in bytes: its used JS heap and what it holds outside it. */
export interface IsolateMemory {
  heap: number;
  external: number;
  arrayBuffers: number;
}

export interface Sample {
  run: number;
  /** Process RSS as sampled, then right after the GCs below (bytes). */
  rssBeforeGc: number;
  rss: number;
  host: IsolateMemory;
  worker: IsolateMemory;
  /** The workbench page's JS heap after a GC (reference only). */
  page: number;
  at: number;
}

const REFERENCE_RUN = 20;
const RSS_LIMIT = 1.1;
const HEAP_FINAL_LIMIT = 1.1;
const SLOPE_WINDOW = 100;
const SLOPE_LIMIT = 0.02;

export interface Series {
  name: string;
  level20: number;
  final: number;
  max: number;
  /** Bytes per 100 runs over the last SLOPE_WINDOW runs. */
  slopePer100: number;
  pass: boolean;
  criterion: string;
}

export interface Verdict {
  series: Series[];
  pass: boolean;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n,
    my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

function series(samples: Sample[], name: string, value: (s: Sample) => number, kind: "rss" | "heap"): Series {
  const ref = samples.find((s) => s.run === REFERENCE_RUN);
  if (!ref) throw new Error(`no sample at run ${REFERENCE_RUN}: the soak needs at least ${REFERENCE_RUN} runs`);
  const after = samples.filter((s) => s.run >= REFERENCE_RUN);
  const last = samples[samples.length - 1];
  // The warm-up before the reference run never counts: a soak shorter than 120 runs has a shorter window.
  const tail = after.filter((s) => s.run >= last.run - SLOPE_WINDOW);
  const level20 = value(ref),
    final = value(last),
    max = Math.max(...after.map(value));
  const slopePer100 =
    slope(
      tail.map((s) => s.run),
      tail.map(value),
    ) * 100;
  const pass = kind === "rss" ? max <= RSS_LIMIT * level20 : final <= HEAP_FINAL_LIMIT * level20 && slopePer100 <= SLOPE_LIMIT * level20;
  const criterion =
    kind === "rss"
      ? `max from run ${REFERENCE_RUN} ≤ ${RSS_LIMIT} × run ${REFERENCE_RUN}`
      : `final ≤ ${HEAP_FINAL_LIMIT} × run ${REFERENCE_RUN}, slope over the last ${SLOPE_WINDOW} runs ≤ ${SLOPE_LIMIT * 100} % of it per 100 runs`;
  return { name, level20, final, max, slopePer100, pass, criterion };
}

export function judge(samples: Sample[]): Verdict {
  const all = [
    series(samples, "extension host RSS (as sampled)", (s) => s.rssBeforeGc, "rss"),
    series(samples, "extension host RSS (after GC)", (s) => s.rss, "rss"),
    series(samples, "extension host JS heap (after GC)", (s) => s.host.heap, "heap"),
    series(samples, "engine worker JS heap (after GC)", (s) => s.worker.heap, "heap"),
  ];
  return { series: all, pass: all.every((s) => s.pass) };
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export const summary = {
  header: "run  RSS MiB (after GC) | host heap MiB, ArrayBuffers | worker heap MiB, ArrayBuffers | page heap MiB",
  row: (s: Sample) =>
    `${String(s.run).padStart(3)}  ${mib(s.rssBeforeGc).padStart(7)} (${mib(s.rss)}) | ${mib(s.host.heap)}, ${mib(s.host.arrayBuffers)} | ` +
    `${mib(s.worker.heap)}, ${mib(s.worker.arrayBuffers)} | ${mib(s.page)}`,
  report(v: Verdict, o: { runs: number; tokens: number[]; latencies: number[]; model: string }): string {
    const lines = [
      "",
      `${o.runs} runs of ${o.model} on ${Math.min(...o.tokens)}–${Math.max(...o.tokens)} tokens (BOS included); ` +
        `edit → run shown + highlights: median ${(median(o.latencies) / 1000).toFixed(2)} s, ` +
        `max ${(Math.max(...o.latencies) / 1000).toFixed(2)} s`,
    ];
    for (const s of v.series) {
      lines.push(
        `${s.pass ? "PASS" : "FAIL"} ${s.name}: run ${REFERENCE_RUN} ${mib(s.level20)} MiB, final ${mib(s.final)} MiB ` +
          `(${(s.final / s.level20).toFixed(3)}×), max ${mib(s.max)} MiB (${(s.max / s.level20).toFixed(3)}×)` +
          (s.name.includes("heap") ? `, slope ${(s.slopePer100 / 1024).toFixed(0)} KiB / 100 runs` : "") +
          ` — ${s.criterion}`,
      );
    }
    lines.push(v.pass ? "PASS: memory stays flat" : "FAIL: memory grows");
    return lines.join("\n");
  },
};

/**
 * The verdict as bench:all's figures, each the ratio its criterion judges: RSS's largest level from
 * run 20 on, a heap's final level (its slope is judged too, and named in the goal), against run 20's.
 */
export function soakFigures(v: Verdict, runs: number, source: string): Figure[] {
  return v.series.map((s, i) => ({
    id: `soak.${i}`,
    what: `${s.name}, ${runs} live-attention runs in VS Code (${source}): ${s.criterion.startsWith("max") ? "largest" : "final"} / run 20`,
    value: (s.criterion.startsWith("max") ? s.max : s.final) / s.level20,
    unit: "×" as const,
    goal: s.criterion,
    met: s.pass,
  }));
}
