/**
 * Entry of the checkpoint-conversion worker (bundled to dist/convertWorker.js). One worker per
 * conversion, started by host/convertRunner.ts under resourceLimits and a deadline: a hostile
 * checkpoint can exhaust this thread, never the extension host's.
 */
import { parentPort } from "node:worker_threads";
import { errorMessage, HeadLensError, isHeadLensError, oneLine } from "../../core/errors";
import { Channel, nodePort } from "../../protocol/channel";
import { ConvertApi, ConvertJob, ExtractJob, PlanJob } from "../../protocol/convert";
import { convertCheckpoint } from "../loaders/convertCheckpoint";
import { planPth } from "../loaders/pthPlan";
import { extractFiles } from "./zipFiles";

const channel = new Channel<ConvertApi, Record<string, never>>(nodePort(parentPort!));
channel.serve("plan", async (job: PlanJob) => {
  try {
    return await planPth(job);
  } catch (e) {
    if (isHeadLensError(e)) throw new HeadLensError(oneLine(e.message, 2000), e.code);
    throw new HeadLensError(`${job.label}: cannot read its tensor table (${oneLine(errorMessage(e))})`, "convert.failed");
  }
});
channel.serve("convert", async (job: ConvertJob) => {
  try {
    await convertCheckpoint(job);
  } catch (e) {
    // A HeadLensError already names the file; anything else (a bug, a RangeError) gets the file added.
    if (isHeadLensError(e)) throw new HeadLensError(oneLine(e.message, 2000), e.code);
    throw new HeadLensError(`${job.pthPath}: cannot convert it (${oneLine(errorMessage(e))})`, "convert.failed");
  }
});
channel.serve("extract", (job: ExtractJob) => extractFiles(job.archive, job.files, job.dir));
