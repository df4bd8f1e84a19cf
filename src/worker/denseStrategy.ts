/**
 * The dense strategy for one head: factored circuits, the two streamed global reductions (max over
 * queries for every key, max over outputs for every source), key selection, then each selected
 * key's queries and outputs. The reference every other strategy must reproduce exactly.
 */
import { HeadCircuits, headCircuits } from "../core/circuits";
import { keyRowsFor } from "../core/exactRows";
import { HeadReport } from "../core/report";
import { denseKeyRows, importance, keyReports, KeyRows, topK } from "../core/selection";
import { CANDIDATE_MARGIN, HeadAnalysis, HeadJob, headDetails, RunControl, streamPart } from "./headJob";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";

export function circuitsFor(backend: OrtBackend, job: Pick<HeadJob, "weights" | "layer" | "head" | "bos">): Promise<HeadCircuits> {
  return headCircuits(job.weights, job.layer, job.head, job.bos, ortKernels(backend));
}

/**
 * The candidates' QK columns and OV rows for the report: from one float32 GEMM per circuit on the
 * CPU provider, whose IEEE float32 rounding bounds the exact recomputation relies on; in full in
 * JavaScript on other providers (a GPU may round differently, e.g. TF32), as before.
 */
export function reportRows(backend: OrtBackend, circuits: HeadCircuits, candidates: number[]): Promise<KeyRows> | KeyRows {
  return backend.ep === "cpu" ? keyRowsFor(circuits, candidates, ortKernels(backend)) : denseKeyRows(circuits);
}

export async function analyzeHeadDense(backend: OrtBackend, job: HeadJob, ctl: RunControl): Promise<HeadAnalysis> {
  ctl.check();
  const circuits = await circuitsFor(backend, job);
  return denseFromCircuits(backend, circuits, job, ctl);
}

/** The dense strategy once a head's factors exist (the pruned strategy falls back to it). */
export async function denseFromCircuits(backend: OrtBackend, circuits: HeadCircuits, job: HeadJob, ctl: RunControl): Promise<HeadAnalysis> {
  const V = job.weights.config.d_vocab;
  const kernels = ortKernels(backend);
  ctl.check();
  const maxQK = await circuits.qk.colMax(kernels, streamPart(ctl, V, 0, 0.5)); // max over queries, per key
  const maxOV = await circuits.ov.rowMax(kernels, streamPart(ctl, V, 0.5, 1)); // max over outputs, per source
  const imp = importance(maxQK, maxOV, job.priorW);
  const candidates = topK(imp, job.sizes.nKeys + CANDIDATE_MARGIN);
  const rows = await reportRows(backend, circuits, candidates);
  const keys = keyReports(circuits, candidates, job.priorW, job.sizes, job.label, rows).slice(0, job.sizes.nKeys);
  const report: HeadReport = { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys };
  return { report, details: headDetails(report, circuits, job, rows), circuits, importance: { lo: imp, hi: imp } };
}
