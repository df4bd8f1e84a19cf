/**
 * One figure of a benchmark, as `npm run bench:all` collects them: each bench prints its own lines
 * as before and, when HEAD_LENS_BENCH_RECORD names a file, also appends its headline figures there
 * (one JSON object per line), so the summary table is made from what was measured, never typed.
 */
import { appendFileSync } from "node:fs";

export interface Figure {
  /** Stable key, e.g. "model.auto"; the table's row order comes from bench/all.ts. */
  id: string;
  /** What was measured, as a reader of the table needs it. */
  what: string;
  value: number;
  unit: "s" | "ms" | "MiB" | "%" | "×";
  /** The peer run side by side in the same run, when there is one. */
  peer?: { name: string; value: number };
  /** The goal, e.g. "≤ 4 s"; `met` says whether this run met it. */
  goal?: string;
  met?: boolean;
}

export function record(f: Figure): void {
  const file = process.env.HEAD_LENS_BENCH_RECORD;
  if (file) appendFileSync(file, JSON.stringify(f) + "\n");
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export { sgemmRate } from "./sgemm";
