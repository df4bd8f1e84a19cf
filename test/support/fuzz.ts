/**
 * Shared checks of the fuzz suites: one seed for the run (FUZZ_SEED to reproduce, printed with any
 * failure), the shape of a good error (a HeadLensError on one line that names the file and the
 * problem), time per case and memory growth over a run.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import fc from "fast-check";
import { isHeadLensError } from "../../src/core/errors";

export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
/** The sentinel a hostile pickle would create if anything in it ran. */
export const SENTINEL = "/tmp/head-lens-fuzz-pwned";
export const CASE_TIME_LIMIT_MS = 5000;
export const MEMORY_GROWTH_LIMIT_MB = 500;

/** Runs a property with the run's seed; a failure names the seed to reproduce it. */
export async function check<T>(property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property as fc.IAsyncPropertyWithHooks<T>, { seed: FUZZ_SEED, numRuns, verbose: 1, endOnFailure: true });
  } catch (e) {
    (e as Error).message = `reproduce with FUZZ_SEED=${FUZZ_SEED}\n${(e as Error).message}`;
    throw e;
  }
}

export interface Expected {
  /** The file the message must name (the user's file, not an internal path). */
  file: string;
  /** The problem: a code prefix (e.g. "safetensors.") or exact code, and/or a message pattern. */
  code?: string | RegExp;
  message?: RegExp;
}

/** The error a user should get: a HeadLensError, one line, naming the file and the problem. */
export function assertCleanError(e: unknown, want: Expected): void {
  assert.ok(isHeadLensError(e), `not a HeadLensError: ${e instanceof Error ? e.stack : String(e)}`);
  const { message, code } = e as Error & { code: string };
  assert.ok(!/[\r\n]/.test(message), `the message is one line: ${JSON.stringify(message)}`);
  assert.ok(message.length < 600, `the message is short (${message.length} characters)`);
  assert.ok(message.startsWith(`${want.file}:`), `the message names ${want.file}: ${message}`);
  if (typeof want.code === "string")
    assert.ok(code === want.code || code.startsWith(want.code), `code ${code}, expected ${want.code}: ${message}`);
  if (want.code instanceof RegExp) assert.match(code, want.code, message);
  if (want.message) assert.match(message, want.message);
  assert.ok(!existsSync(SENTINEL), "nothing from the file was executed");
}

/** Runs `f`, which must fail, within the time limit; returns the error. */
export async function expectFailure(f: () => unknown): Promise<unknown> {
  const start = performance.now();
  try {
    await f();
  } catch (e) {
    const ms = performance.now() - start;
    assert.ok(ms < CASE_TIME_LIMIT_MS, `failed after ${ms.toFixed(0)} ms (limit ${CASE_TIME_LIMIT_MS})`);
    return e;
  }
  assert.fail("the malformed input was accepted");
}

/** Peak RSS growth (MB) over a run, sampled after every case. */
export class MemoryWatch {
  private readonly start = process.memoryUsage().rss;
  private peak = this.start;

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }

  assertBounded(what: string): void {
    this.sample();
    const grownMb = (this.peak - this.start) / 2 ** 20;
    assert.ok(grownMb < MEMORY_GROWTH_LIMIT_MB, `${what}: RSS grew by ${grownMb.toFixed(0)} MB (limit ${MEMORY_GROWTH_LIMIT_MB})`);
  }
}
