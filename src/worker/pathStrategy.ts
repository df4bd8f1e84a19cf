/**
 * A composition path of one head (core/pathCircuits.ts), analyzed with the dense strategy's
 * machinery: one fused pass over QK gives every key's max over queries and every row's diagonal
 * rank, one pass over OV every source's max; so a path costs about what a direct head does.
 */
import { importance, pathKeyReports, topK } from "../core/selection";
import { pathCircuits } from "../core/pathCircuits";
import { diagonalStats } from "../core/diagonalRanks";
import { DiagonalStats, HeadReport, PathRef } from "../core/report";
import { HeadDetails } from "../protocol/headDetails";
import { CANDIDATE_MARGIN, HeadJob, headDetails, RunControl, streamPart } from "./headJob";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";

export async function analyzePath(
  backend: OrtBackend,
  job: HeadJob,
  via: PathRef,
  ctl: RunControl,
): Promise<{ report: HeadReport; details: HeadDetails }> {
  const V = job.weights.config.d_vocab;
  const kernels = ortKernels(backend);
  ctl.check();
  const c = await pathCircuits(job.weights, job.layer, job.head, via, job.bos, ortKernels(backend));
  const ones = new Float64Array(V).fill(1);
  let diagonal: DiagonalStats | undefined, imp: Float64Array;
  if (c.qk) {
    const twoPasses = !!c.ov;
    const ranks = await c.qk.diagonalRanks(kernels, streamPart(ctl, V, 0, twoPasses ? 0.5 : 1));
    diagonal = await diagonalStats(ranks);
    const maxQK = ranks.colMax;
    const maxOV = c.ov ? await c.ov.rowMax(kernels, streamPart(ctl, V, 0.5, 1)) : ones;
    imp = importance(maxQK, maxOV, job.priorW);
  } else {
    imp = importance(ones, await c.ov!.rowMax(kernels, streamPart(ctl, V, 0, 1)), job.priorW);
  }
  const candidates = topK(imp, job.sizes.nKeys + CANDIDATE_MARGIN);
  const keys = pathKeyReports(via.type, c, candidates, job.priorW, job.sizes, job.label).slice(0, job.sizes.nKeys);
  const report: HeadReport = {
    model: job.modelName,
    layer: job.layer,
    head: job.head,
    bos: job.bos,
    ep: backend.ep,
    keys,
    via: { ...via },
    ...(diagonal ? { diagonal } : {}),
  };
  return { report, details: headDetails(report, c, job) };
}
