/**
 * Entry of the checkpoint-conversion worker (bundled to dist/convertWorker.js). One worker per
 * conversion, started by host/convertRunner.ts under resourceLimits and a deadline: a hostile
 * checkpoint can exhaust this thread, never the extension host's.
 */
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage, isHeadLensError, oneLine } from "../../core/errors";
import { ConvertJob, ConvertResult } from "../../protocol/convert";
import { convertCheckpoint } from "../loaders/convertCheckpoint";

const job = workerData as ConvertJob;
const post = (result: ConvertResult) => parentPort!.postMessage(result);

convertCheckpoint(job).then(
  () => post({ type: "done" }),
  (e: unknown) => {
    // A HeadLensError already names the file; anything else (a bug, a RangeError) gets the file added.
    const message = isHeadLensError(e) ? oneLine(e.message, 2000) : `${job.pthPath}: cannot convert it (${oneLine(errorMessage(e))})`;
    post({ type: "failed", message, code: isHeadLensError(e) ? (e as { code: string }).code : "convert.failed" });
  },
);
