/**
 * What the light metrics (composition, previous-token, induction, duplicate-token, BOS) need of a
 * checkpoint, and the small model made of just that. Composition reads only the attention weights
 * (with ln1's, folded in); the pattern scores run the metric sequences, which touch only the W_E
 * rows of metricTokenRuns and BOS, and the first 2·repeat + 1 rows of W_pos. The small model keeps
 * those rows under compact ids and a zero unembedding (no light metric reads it): TransformerLens's
 * processing works row by row on W_E and W_pos and never mixes W_U into a head, so every light
 * metric of the small model equals the full model's.
 */
import { ModelConfig } from "./config";
import { metricSequences, metricTokenRuns } from "./headMetrics";
import { Tensor } from "./tensor";
import { expectedShapes, ModelWeights, weightsFromTensors } from "./weights";

export interface LightSpec {
  /** W_E rows read, as sorted disjoint runs [start, end): the metric runs and BOS. */
  rows: [number, number][];
  /** W_pos rows read: 0 … positions − 1. */
  positions: number;
}

export function lightSpec(config: ModelConfig, bos: number): LightSpec {
  const runs = [...metricTokenRuns(config.d_vocab), [bos, bos + 1] as [number, number]].sort((a, b) => a[0] - b[0]);
  const rows: [number, number][] = [];
  for (const [s, e] of runs) {
    const last = rows.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else rows.push([s, e]);
  }
  const { repeat } = metricSequences(2, 0, config.n_ctx); // the length rule only
  return { rows, positions: Math.min(config.n_ctx, 2 * repeat + 1) };
}

/** Tensors the light metrics read, with their full shapes (W_E and W_pos only in part: lightSpec). */
export function lightTensorNames(config: ModelConfig): [string, number[]][] {
  return [...expectedShapes(config)].filter(([name]) => !name.startsWith("unembed.") && !name.startsWith("ln_final."));
}

const rowCount = (spec: LightSpec) => spec.rows.reduce((n, [s, e]) => n + e - s, 0);

/** The compact id of a full-vocabulary id among the rows read. */
export function compactId(spec: LightSpec, id: number): number {
  let base = 0;
  for (const [s, e] of spec.rows) {
    if (id >= s && id < e) return base + id - s;
    base += e - s;
  }
  throw new RangeError(`token ${id} is not among the rows read`);
}

/** The small model's config: as many ids as rows read, as many positions as read. */
export function lightConfig(config: ModelConfig, spec: LightSpec): ModelConfig {
  return { ...config, d_vocab: rowCount(spec), n_ctx: spec.positions };
}

/**
 * The small model's raw weights from the tensors read (`embed.W_E`: the rows of spec.rows, in
 * order; `pos_embed.W_pos`: the first spec.positions rows; the rest whole), with a zero unembedding.
 */
export function lightWeights(config: ModelConfig, spec: LightSpec, read: Map<string, Float32Array>): ModelWeights {
  const small = lightConfig(config, spec);
  const { d_model: D, d_vocab: R } = small;
  const shapes = expectedShapes(small);
  const t = new Map<string, Tensor>([...read].map(([name, data]) => [name, { shape: shapes.get(name)!, data }]));
  if (config.normalization_type === "LN") {
    t.set("ln_final.w", { shape: [D], data: new Float32Array(D).fill(1) });
    t.set("ln_final.b", { shape: [D], data: new Float32Array(D) });
  }
  t.set("unembed.W_U", { shape: [D, R], data: new Float32Array(D * R) });
  t.set("unembed.b_U", { shape: [R], data: new Float32Array(R) });
  return weightsFromTensors(small, t);
}

/** The metric sequences of the full model, in the small model's ids. */
export function lightSequences(config: ModelConfig, spec: LightSpec, bos: number): { tokens: number[][]; repeat: number } {
  const { tokens, repeat } = metricSequences(config.d_vocab, bos, config.n_ctx);
  return { tokens: tokens.map((seq) => seq.map((id) => compactId(spec, id))), repeat };
}

/** Byte ranges [start, end) within a tensor's row-major data for the rows read of it. */
export function lightRowRanges(name: string, spec: LightSpec, rowBytes: number): [number, number][] | undefined {
  if (name === "embed.W_E") return spec.rows.map(([s, e]) => [s * rowBytes, e * rowBytes]);
  if (name === "pos_embed.W_pos") return [[0, spec.positions * rowBytes]];
  return undefined;
}
