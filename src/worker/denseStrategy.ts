/**
 * One head, end to end: factored circuits (onnxruntime matmuls), the two streamed global
 * reductions (max over queries for every key, max over outputs for every source), key selection,
 * then each selected key's queries and outputs.
 */
import { dot } from "../core/factored";
import { HeadCircuits, headCircuits } from "../core/circuits";
import { HeadReport, ReportSizes } from "../core/report";
import { importance, keyReports, topK, TokenLabel } from "../core/selection";
import { transpose2d } from "../core/tensor";
import { ModelWeights } from "../core/weights";
import { HeadDetails, TokenInHead } from "../protocol/headDetails";
import { CancelCheck, OrtBackend, blockRowsFor } from "./ortBackend";

export interface HeadJob {
  modelName: string;
  /** Processed weights. */
  weights: ModelWeights;
  bos: number;
  layer: number;
  head: number;
  /** Prior p and p^0.1. */
  prior: Float64Array;
  priorW: Float64Array;
  /** Where the prior came from, shown with the results (e.g. "uniform"). */
  priorSource: string;
  sizes: ReportSizes;
  label: TokenLabel;
  byteLength: (id: number) => number | undefined;
}

export interface RunControl {
  check: CancelCheck;
  /** Fraction of this head done, in [0, 1]. */
  progress?: (fraction: number) => void;
  /** Bytes one streamed block's slab may use. */
  blockBytes: number;
}

export interface HeadAnalysis {
  report: HeadReport;
  details: HeadDetails;
  circuits: HeadCircuits;
  /** Every key's importance, exactly (lo = hi, dense pass) or within bounds (pruned pass). */
  importance: ImportanceIntervals;
}

export interface ImportanceIntervals {
  lo: Float64Array;
  hi: Float64Array;
}

/** Extra candidates re-scored exactly, so float32 rounding in the streamed pass cannot drop a key. */
export const CANDIDATE_MARGIN = 3;

export function circuitsFor(backend: OrtBackend, job: Pick<HeadJob, "weights" | "layer" | "head" | "bos">): Promise<HeadCircuits> {
  return headCircuits(job.weights, job.layer, job.head, job.bos, (a, b, m, k, n) => backend.matmul(a, b, m, k, n));
}

export async function analyzeHeadDense(backend: OrtBackend, job: HeadJob, ctl: RunControl): Promise<HeadAnalysis> {
  ctl.check();
  const circuits = await circuitsFor(backend, job);
  return denseFromCircuits(backend, circuits, job, ctl);
}

/** The dense strategy once a head's factors exist (the pruned strategy falls back to it). */
export async function denseFromCircuits(backend: OrtBackend, circuits: HeadCircuits, job: HeadJob, ctl: RunControl): Promise<HeadAnalysis> {
  const { d_vocab: V, d_head: E } = job.weights.config;
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
  const report: HeadReport = { model: job.modelName, layer: job.layer, head: job.head, bos: job.bos, ep: backend.ep, keys };
  return { report, details: headDetails(report, circuits, job), circuits, importance: { lo: imp, hi: imp } };
}

export function headDetails(report: HeadReport, c: HeadCircuits, job: HeadJob): HeadDetails {
  const E = c.qk.rank;
  const tokens: HeadDetails["tokens"] = {};
  const note = (id: number) => (tokens[id] ??= { p: job.prior[id], bytes: job.byteLength(id) });
  const keys = report.keys.map((k) => {
    note(k.id);
    k.queries.forEach((q) => note(q.id));
    k.outputs.forEach((o) => note(o.id));
    let mean = 0;
    for (let e = 0; e < E; e++) mean += c.ov.left[k.id * E + e] * c.outputMean[e];
    return {
      queryBaselines: k.queries.map((q) => dot(c.qk.left, q.id * E, c.bosKey, 0, E)),
      ovRowMean: mean,
    };
  });
  return { keys, tokens, prior: job.priorSource };
}

/** Straddling keys evaluated exactly for a hover's rank; beyond this the rank is shown as a range. */
const MAX_EXACT_RANK_KEYS = 64;

/** A key's importance in float64, O(V·d_head). */
function exactImportance(c: HeadCircuits, k: number, priorW: Float64Array): number {
  let maxQK = -Infinity, maxOV = -Infinity;
  for (const x of c.qk.col(k)) maxQK = Math.max(maxQK, x);
  for (const x of c.ov.row(k)) maxOV = Math.max(maxOV, x);
  return maxQK * maxOV * priorW[k];
}

/** What one token does in a head, in O(V·d_head): its importance (and rank when the head's
 * importance intervals are at hand), its top outputs, and the keys it most prefers as a query. */
export function tokenInHead(c: HeadCircuits, tokenId: number, layer: number, head: number, priorW: Float64Array, n: number, label: TokenLabel, importance?: ImportanceIntervals): TokenInHead {
  const row = c.ov.row(tokenId); // OVn[token, :]
  const asQuery = c.qk.row(tokenId); // QKn[token, :]
  const imp = exactImportance(c, tokenId, priorW);
  const above = (v: number, k: number) => v > imp || (v === imp && k < tokenId);
  let keyRank = 0, keyRankMax: number | undefined;
  if (importance) {
    // Keys surely above, plus keys whose interval straddles imp: exact when few, else a range.
    const straddling: number[] = [];
    keyRank = 1;
    for (let k = 0; k < importance.lo.length; k++) {
      if (k === tokenId) continue;
      const lo = importance.lo[k], hi = importance.hi[k];
      if (lo === hi ? above(lo, k) : lo > imp) keyRank++;
      else if (lo !== hi && hi >= imp) straddling.push(k);
    }
    if (straddling.length <= MAX_EXACT_RANK_KEYS) {
      for (const k of straddling) if (above(exactImportance(c, k, priorW), k)) keyRank++;
    } else keyRankMax = keyRank + straddling.length;
  }
  return {
    layer, head, keyRank, ...(keyRankMax ? { keyRankMax } : {}), importance: imp,
    topOutputs: topK(row, n).map((o) => ({ id: o, token: label(o), score: row[o] })),
    preferredKeys: topK(asQuery, n).map((k) => ({ id: k, token: label(k), score: asQuery[k] })),
  };
}
