/** What one head analysis needs and returns, shared by the dense and pruned strategies. */
import { dot, StreamControl } from "../core/factored";
import { HeadCircuits } from "../core/circuits";
import { HeadReport, ReportSizes } from "../core/report";
import { TokenLabel } from "../core/selection";
import { ModelWeights } from "../core/weights";
import { HeadDetails } from "../protocol/headDetails";

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
  check: () => void;
  /** Fraction of this head done, in [0, 1]. */
  progress?: (fraction: number) => void;
  /** Bytes one streamed block's slab may use. */
  blockBytes: number;
}

export interface ImportanceIntervals {
  lo: Float64Array;
  hi: Float64Array;
}

export interface HeadAnalysis {
  report: HeadReport;
  details: HeadDetails;
  circuits: HeadCircuits;
  /** Every key's importance, exactly (lo = hi, dense pass) or within bounds (pruned pass). */
  importance: ImportanceIntervals;
}

/** Extra candidates re-scored exactly, so float32 rounding in the streamed pass cannot drop a key. */
export const CANDIDATE_MARGIN = 3;

/** A stream control for one part [from, to) of a head's progress over `rows` rows. */
export function streamPart(ctl: RunControl, rows: number, from: number, to: number): StreamControl {
  return { check: ctl.check, blockBytes: ctl.blockBytes, progress: (done) => ctl.progress?.(from + (to - from) * (done / rows)) };
}

/** What the panel shows beyond the report: priors, byte lengths, the raw scores behind normalized ones. */
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
