/**
 * Runs one checkpoint conversion in its own worker thread (dist/convertWorker.js), so parsing a
 * .pth never runs on the extension host's thread. The worker gets V8 heap limits and a wall-clock
 * deadline; whatever stops it (an error, the heap limit, the deadline, a crash) ends in exactly one
 * HeadLensError naming the user's file, and the temporary folder is removed so no cache entry is
 * left behind.
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ResourceLimits, Worker } from "node:worker_threads";
import { HeadLensError, oneLine } from "../core/errors";
import { Channel, nodePort } from "../protocol/channel";
import { ConvertApi, ConvertJob, ExtractJob, PlanJob, PlanResult } from "../protocol/convert";

export interface ConvertRunOptions {
  /** The bundled worker script; default: convertWorker.js beside this bundle. */
  workerPath?: string;
  /** Wall-clock limit; default from the checkpoint's size (conversionDeadlineMs). */
  deadlineMs?: number;
  resourceLimits?: ResourceLimits;
}

/**
 * The JS heap of a conversion holds only the unpickled state dict (≈ 1 KB per tensor) and a
 * tokenizer.json (≤ 64 MiB of JSON); tensor bytes live in ArrayBuffers, bounded by the readers.
 */
export const CONVERT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 };

/**
 * 4 s for starting the worker and reading any small file, plus 40 ms per MiB (25 MiB/s, a tenth of
 * the ≈ 250 MB/s a 217 MB checkpoint converts at on a 2-core server): a runaway input of ≤ 1 MB is
 * stopped within ≈ 4 s, a 2 GB checkpoint gets 86 s.
 */
export function conversionDeadlineMs(checkpointBytes: number): number {
  return 4000 + Math.ceil((40 * checkpointBytes) / (1024 * 1024));
}

/** dist/convertWorker.js beside the bundle; under tsc output (tests), the compiled worker entry. */
export function defaultConvertWorkerPath(): string {
  const bundled = join(__dirname, "convertWorker.js");
  return existsSync(bundled) ? bundled : join(__dirname, "..", "worker", "convert", "main.js");
}

export async function runConversion(job: ConvertJob, opts: ConvertRunOptions = {}): Promise<void> {
  const deadline = opts.deadlineMs ?? conversionDeadlineMs(statSync(job.pthPath, { throwIfNoEntry: false })?.size ?? 0);
  try {
    await inWorker("convert", job, job.pthPath, deadline, opts);
  } finally {
    rmSync(job.tmp, { recursive: true, force: true });
  }
}

/** Unpickles a checkpoint's data.pkl in a worker under the same limits: where each tensor's bytes are. */
export function runPlan(job: PlanJob, opts: ConvertRunOptions = {}): Promise<PlanResult> {
  return inWorker(
    "plan",
    job,
    job.label,
    opts.deadlineMs ?? conversionDeadlineMs(job.tail.bytes.byteLength + job.spans.reduce((n, s) => n + s.bytes.byteLength, 0)),
    opts,
  );
}

/** Writes named entries of an archive to files, in a worker (no zip parser runs on the host). */
export function runExtract(job: ExtractJob, opts: ConvertRunOptions = {}): Promise<void> {
  // Inflating writes about twice the archive's bytes: twice a conversion's allowance.
  const deadline = opts.deadlineMs ?? 2 * conversionDeadlineMs(statSync(job.archive, { throwIfNoEntry: false })?.size ?? 0);
  return inWorker("extract", job, job.archive, deadline, opts);
}

/** One call in a fresh conversion worker; whatever stops it ends in one HeadLensError naming `label`. */
async function inWorker<M extends keyof ConvertApi>(
  method: M,
  params: ConvertApi[M]["params"],
  label: string,
  deadline: number,
  opts: ConvertRunOptions,
): Promise<ConvertApi[M]["result"]> {
  const limits = opts.resourceLimits ?? CONVERT_RESOURCE_LIMITS;
  let worker: Worker;
  try {
    worker = new Worker(resolve(opts.workerPath ?? defaultConvertWorkerPath()), { resourceLimits: limits });
  } catch (e) {
    throw workerFailure(label, e as Error, limits);
  }
  try {
    return await new Promise<ConvertApi[M]["result"]>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new HeadLensError(
            `${label}: reading it took longer than ${(deadline / 1000).toFixed(1)} s and was stopped; the file may be malformed or hostile`,
            "convert.timeout",
          ),
        );
      }, deadline);
      const settle = (e?: Error, result?: ConvertApi[M]["result"]) => {
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(result as ConvertApi[M]["result"]);
      };
      const channel = new Channel<Record<string, never>, ConvertApi>(nodePort(worker), {
        makeError: (m, code) => new HeadLensError(m, code as HeadLensError["code"]),
      });
      channel.call(method, params).then((r) => settle(undefined, r as ConvertApi[M]["result"]), settle);
      worker.on("error", (e: Error) => settle(workerFailure(label, e, limits)));
      worker.on("exit", (code) =>
        settle(new HeadLensError(`${label}: the conversion worker stopped unexpectedly (exit code ${code})`, "convert.crashed")),
      );
    });
  } finally {
    await worker.terminate();
  }
}

function workerFailure(label: string, e: Error & { code?: string }, limits: ResourceLimits): HeadLensError {
  if (e.code === "ERR_WORKER_OUT_OF_MEMORY") {
    const mb = limits.maxOldGenerationSizeMb;
    return new HeadLensError(
      `${label}: reading it needed more than the ${mb} MB memory limit and was stopped; the file may be malformed or hostile`,
      "convert.memory",
    );
  }
  return new HeadLensError(`${label}: the conversion worker failed (${oneLine(e.message || String(e))})`, "convert.crashed");
}
