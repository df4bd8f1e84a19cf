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
import { ConvertApi, ConvertJob } from "../protocol/convert";

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
  const limits = opts.resourceLimits ?? CONVERT_RESOURCE_LIMITS;
  let worker: Worker;
  try {
    worker = new Worker(resolve(opts.workerPath ?? defaultConvertWorkerPath()), { resourceLimits: limits });
  } catch (e) {
    throw workerFailure(job, e as Error, limits);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new HeadLensError(
            `${job.pthPath}: converting it took longer than ${(deadline / 1000).toFixed(1)} s and was stopped; the file may be malformed or hostile`,
            "convert.timeout",
          ),
        );
      }, deadline);
      const settle = (e?: Error) => {
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      const channel = new Channel<Record<string, never>, ConvertApi>(nodePort(worker), {
        makeError: (m, code) => new HeadLensError(m, code as HeadLensError["code"]),
      });
      channel.call("convert", job).then(() => settle(), settle);
      worker.on("error", (e: Error) => settle(workerFailure(job, e, limits)));
      worker.on("exit", (code) =>
        settle(new HeadLensError(`${job.pthPath}: the conversion worker stopped unexpectedly (exit code ${code})`, "convert.crashed")),
      );
    });
  } finally {
    await worker.terminate();
    rmSync(job.tmp, { recursive: true, force: true });
  }
}

function workerFailure(job: ConvertJob, e: Error & { code?: string }, limits: ResourceLimits): HeadLensError {
  if (e.code === "ERR_WORKER_OUT_OF_MEMORY") {
    const mb = limits.maxOldGenerationSizeMb;
    return new HeadLensError(
      `${job.pthPath}: converting it needed more than the ${mb} MB memory limit and was stopped; the file may be malformed or hostile`,
      "convert.memory",
    );
  }
  return new HeadLensError(`${job.pthPath}: the conversion worker failed (${oneLine(e.message || String(e))})`, "convert.crashed");
}
