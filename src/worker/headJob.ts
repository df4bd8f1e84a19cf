/** What one head analysis needs and returns, shared by the dense and pruned strategies. */
import { StreamControl } from "../core/factored";
import { bosScore, HeadCircuits, outputRowMean } from "../core/circuits";
import { ImportanceIntervals } from "../core/keyRank";
import { HeadReport, ReportSizes } from "../core/report";
import { KeyRows, TokenLabel } from "../core/selection";
import { exactRowFromDense } from "../core/exactRows";
import { ModelWeights } from "../core/weights";
import { HeadDetails, KeyDetails } from "../protocol/headDetails";

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

/** Suppressed outputs listed per key in the panel. */
const SUPPRESSED = 5;

/**
 * What the panel shows beyond the report: priors, byte lengths, the raw scores behind normalized
 * ones, each key's copying rank and its most suppressed outputs. Paths lack one side (k: OV, v: QK).
 */
export function headDetails(report: HeadReport, c: Partial<HeadCircuits>, job: HeadJob, rows?: Pick<KeyRows, "ovRow">): HeadDetails {
  const tokens: HeadDetails["tokens"] = {};
  const note = (id: number) => (tokens[id] ??= { p: job.prior[id], bytes: job.byteLength(id) });
  const keys = report.keys.map((k): KeyDetails => {
    note(k.id);
    k.queries.forEach((q) => note(q.id));
    k.outputs.forEach((o) => note(o.id));
    const { qk, bosKey, ov, outputMean } = c;
    const queryBaselines = qk && bosKey ? k.queries.map((q) => bosScore({ qk, bosKey }, q.id)) : [];
    if (!ov || !outputMean) return { queryBaselines, ovRowMean: 0 };
    const mean = outputRowMean({ ov, outputMean }, k.id);
    const row = rows ? rows.ovRow(k.id) : exactRowFromDense(ov.row(k.id));
    const selfOutputRank = row.countAbove(row.at(k.id));
    const suppressed = row.bottom(SUPPRESSED).map((o) => ({ id: o, token: job.label(o), score: row.at(o) }));
    suppressed.forEach((x) => note(x.id));
    return { queryBaselines, ovRowMean: mean, selfOutputRank, suppressed };
  });
  return { keys, tokens, prior: job.priorSource };
}
