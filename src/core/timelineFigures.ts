/**
 * What the Training Timeline panel derives from the checkpoints' metrics (issue #24): the strongest
 * composition pairs over a run, and the diff of two checkpoints — badges gained and lost (the badge
 * rule of headTraits.ts) and the heads whose metrics moved most. Pure, so a unit test checks it.
 */
import type { CompositionSet, CompositionType, PatternScores } from "./headMetrics";
import { strongestTrait, TraitKey } from "./headTraits";
import { byHead, headName, HeadRef } from "./heads";

/** One head at one checkpoint: the pattern scores, copying only from a full timeline. */
export type TimelineHeadScores = HeadRef & PatternScores & { copying?: number };

/** One checkpoint as the panel holds it (TimelineCheckpoint's shape). */
export interface CheckpointFigures {
  label: number;
  heads: TimelineHeadScores[];
  composition: CompositionSet;
}

/** The metrics the panel charts, in its order; copying only when every checkpoint has it. */
export const TIMELINE_METRIC_KEYS: readonly TraitKey[] = ["induction", "prevToken", "duplicateToken", "bos", "copying"];

export interface CompositionPair {
  from: HeadRef;
  to: HeadRef;
  /** "L0H3 → L1H0" */
  name: string;
  /** The score at each checkpoint, in the order given (NaN where a checkpoint lacks it). */
  scores: number[];
  /** Its largest score over the checkpoints: the pairs are ranked by it. */
  peak: number;
}

/**
 * The `n` earlier → later pairs of one composition type with the highest peak over the checkpoints
 * (ties: model order of the later, then the earlier head), each with its score at every checkpoint.
 */
export function strongestPairs(checkpoints: readonly CheckpointFigures[], type: CompositionType, n: number): CompositionPair[] {
  const pairs = new Map<string, CompositionPair>();
  checkpoints.forEach((c, i) =>
    c.composition[type].forEach((byHead1, l1) =>
      byHead1.forEach((byLayer2, h1) =>
        byLayer2.forEach((row, l2) =>
          row.forEach((score, h2) => {
            if (l2 <= l1 || !Number.isFinite(score)) return;
            const key = `${l1}.${h1}>${l2}.${h2}`;
            let p = pairs.get(key);
            if (!p) {
              const name = `${headName(l1, h1)} → ${headName(l2, h2)}`;
              p = { from: { layer: l1, head: h1 }, to: { layer: l2, head: h2 }, name, scores: checkpoints.map(() => NaN), peak: -Infinity };
              pairs.set(key, p);
            }
            p.scores[i] = score;
            p.peak = Math.max(p.peak, score);
          }),
        ),
      ),
    ),
  );
  return [...pairs.values()].sort((a, b) => b.peak - a.peak || byHead(a.to, b.to) || byHead(a.from, b.from)).slice(0, Math.max(0, n));
}

/** A head's badge (its strongest notable trait, headTraits.ts), or undefined; without copying, copying is no badge. */
export function headBadge(h: TimelineHeadScores): { trait: TraitKey; label: string; score: number } | undefined {
  const b = strongestTrait({ ...h, copying: h.copying ?? NaN });
  return b && { trait: b.trait.key, label: b.trait.label, score: b.score };
}

export interface BadgeChange {
  head: HeadRef;
  /** The badge at the earlier and the later checkpoint (undefined: none). */
  before?: { label: string; score: number };
  after?: { label: string; score: number };
  kind: "gained" | "lost" | "changed";
}

export interface HeadMove {
  head: HeadRef;
  /** later − earlier, per metric both checkpoints have. */
  delta: Partial<Record<TraitKey, number>>;
  /** The largest |delta|, and the metric it is in. */
  largest: number;
  metric: TraitKey;
}

export interface CheckpointDiff {
  from: number;
  to: number;
  badges: BadgeChange[];
  /** Every head, the one whose metrics moved most first. */
  moved: HeadMove[];
}

/** How two checkpoints differ: badges gained, lost or changed (model order), and the heads by how far their metrics moved. */
export function checkpointDiff(a: CheckpointFigures, b: CheckpointFigures): CheckpointDiff {
  const later = new Map(b.heads.map((h) => [headName(h.layer, h.head), h]));
  const badges: BadgeChange[] = [];
  const moved: HeadMove[] = [];
  for (const ha of [...a.heads].sort(byHead)) {
    const hb = later.get(headName(ha.layer, ha.head));
    if (!hb) continue;
    const head = { layer: ha.layer, head: ha.head };
    const [x, y] = [headBadge(ha), headBadge(hb)];
    const kind = !x && y ? "gained" : x && !y ? "lost" : x && y && x.trait !== y.trait ? "changed" : undefined;
    if (kind)
      badges.push({
        head,
        kind,
        ...(x ? { before: { label: x.label, score: x.score } } : {}),
        ...(y ? { after: { label: y.label, score: y.score } } : {}),
      });
    const delta: HeadMove["delta"] = {};
    let largest = -1,
      metric: TraitKey = "induction";
    for (const k of TIMELINE_METRIC_KEYS) {
      const [u, v] = [ha[k], hb[k]];
      if (u === undefined || v === undefined || !Number.isFinite(u) || !Number.isFinite(v)) continue;
      delta[k] = v - u;
      if (Math.abs(v - u) > largest) [largest, metric] = [Math.abs(v - u), k];
    }
    moved.push({ head, delta, largest: Math.max(0, largest), metric });
  }
  moved.sort((p, q) => q.largest - p.largest || byHead(p.head, q.head));
  return { from: a.label, to: b.label, badges, moved };
}

/** A checkpoint label as the axis and the figures say it: 0, 950, 12.5k, 3.4M, 1.2B. */
export function formatLabel(x: number): string {
  const abs = Math.abs(x);
  for (const [div, unit] of [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const)
    if (abs >= div * 0.9995) return `${trim(x / div)}${unit}`; // 999 999 is 1M, not 1000k
  return trim(x);
}

const trim = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3))));

/**
 * Ticks (and grid lines) of the log axis: 0 when in range, then powers of ten from the smallest
 * positive label's up (below it the arcsinh axis is linear and squeezed), with 2× and 5× when the
 * labels span under two decades.
 */
export function logSplits(min: number, max: number, smallest: number): number[] {
  const out = min <= 0 && max >= 0 ? [0] : [];
  const low = Math.max(min, smallest, 1e-12);
  const from = Math.ceil(Math.log10(low) - 1e-9);
  const to = Math.floor(Math.log10(Math.max(max, low)) + 1e-9);
  const steps = Math.log10(Math.max(max, low)) - Math.log10(low) < 2 ? [1, 2, 5] : [1];
  for (let p = from - 1; p <= to; p++)
    for (const m of steps) {
      const v = m * 10 ** p;
      if (v >= low * (1 - 1e-9) && v <= max) out.push(v);
    }
  return out;
}
