/**
 * One head, end to end: factored circuits (onnxruntime matmuls), the two streamed global
 * reductions (max over queries for every key, max over outputs for every source), key selection,
 * then each selected key's queries and outputs.
 */
import { headCircuits } from "../core/circuits";
import { HeadReport, ReportSizes } from "../core/report";
import { importance, keyReports, topK, TokenLabel } from "../core/selection";
import { transpose2d } from "../core/tensor";
import { ModelWeights } from "../core/weights";
import { CancelCheck, OrtBackend, blockRowsFor } from "./ortBackend";

export interface HeadJob {
  modelName: string;
  /** Processed weights. */
  weights: ModelWeights;
  bos: number;
  layer: number;
  head: number;
  priorW: Float64Array;
  sizes: ReportSizes;
  label: TokenLabel;
}

export interface RunControl {
  check: CancelCheck;
  /** Fraction of this head done, in [0, 1]. */
  progress?: (fraction: number) => void;
  /** Bytes one streamed block's slab may use. */
  blockBytes: number;
}

/** Extra candidates re-scored exactly, so float32 rounding in the streamed pass cannot drop a key. */
const CANDIDATE_MARGIN = 3;

export async function analyzeHeadDense(backend: OrtBackend, job: HeadJob, ctl: RunControl): Promise<HeadReport> {
  const { d_vocab: V, d_head: E } = job.weights.config;
  ctl.check();
  const circuits = await headCircuits(job.weights, job.layer, job.head, job.bos, (a, b, m, k, n) => backend.matmul(a, b, m, k, n));
  ctl.check();
  const rows = blockRowsFor(V, ctl.blockBytes);
  // max_q QKn[q, k] for every key: rows = keys, reduced along the (contiguous) query axis.
  const queriesT = transpose2d(circuits.qk.left, V, E);
  const maxQK = await backend.blockedRowMax(circuits.qk.right, queriesT, V, E, V, rows, ctl.check, (d) => ctl.progress?.(0.5 * (d / V)));
  // max_o OVn[s, o] for every source.
  const outputsT = transpose2d(circuits.ov.right, V, E);
  const maxOV = await backend.blockedRowMax(circuits.ov.left, outputsT, V, E, V, rows, ctl.check, (d) => ctl.progress?.(0.5 + 0.5 * (d / V)));
  const imp = importance(maxQK, maxOV, job.priorW);
  const candidates = topK(imp, job.sizes.nKeys + CANDIDATE_MARGIN);
  const keys = keyReports(circuits, candidates, job.priorW, job.sizes, job.label).slice(0, job.sizes.nKeys);
  return { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys };
}
