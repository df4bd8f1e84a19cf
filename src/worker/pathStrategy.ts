/**
 * A composition path of one head (core/pathCircuits.ts): one fused pass over QK gives every key's
 * max over queries and every row's diagonal rank bracket; under the pruned strategy the OV side's
 * maxima come from its bounds and exact rows for the keys that could enter the report (pathKeys.ts),
 * under the dense one from one streamed pass. Either way the candidates are the dense computation's.
 */
import { importance, pathKeyReports, topK } from "../core/selection";
import { pathCircuits } from "../core/pathCircuits";
import { diagonalStats } from "../core/diagonalRanks";
import { DiagonalStats, HeadReport, PathRef } from "../core/report";
import { HeadDetails } from "../protocol/headDetails";
import { CANDIDATE_MARGIN, HeadJob, headDetails, RunControl, streamPart } from "./headJob";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";
import { pathCandidates } from "./pathKeys";

export async function analyzePath(
  backend: OrtBackend,
  job: HeadJob,
  via: PathRef,
  ctl: RunControl,
  strategy: "dense" | "pruned" = "pruned",
): Promise<{ report: HeadReport; details: HeadDetails }> {
  const V = job.weights.config.d_vocab;
  const kernels = ortKernels(backend);
  ctl.check();
  const c = await pathCircuits(job.weights, job.layer, job.head, via, job.bos, ortKernels(backend));
  const want = job.sizes.nKeys + CANDIDATE_MARGIN;
  let diagonal: DiagonalStats | undefined, maxQK: Float32Array | undefined;
  if (c.qk) {
    const ranks = await c.qk.diagonalRanks(kernels, streamPart(ctl, V, 0, c.ov ? 0.5 : 1));
    diagonal = await diagonalStats(ranks);
    maxQK = ranks.colMax;
  }
  const ones = new Float64Array(V).fill(1),
    ovPart = streamPart(ctl, V, c.qk ? 0.5 : 0, 1);
  // The dense strategy (asked for, or what "auto" means off the CPU: the int8 bounds are CPU kernels) passes over OV whole.
  const candidates = !c.ov
    ? topK(importance(maxQK!, ones, job.priorW), want)
    : strategy === "pruned"
      ? (await pathCandidates(backend, c.ov, maxQK, job.priorW, want, ovPart)).candidates
      : topK(importance(maxQK ?? ones, await c.ov.rowMax(kernels, ovPart), job.priorW), want);
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
