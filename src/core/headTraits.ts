/**
 * What the head metrics mean, in one sentence each with its source, and the rule that gives a head
 * its badge (its strongest trait). Shared by the tree, the model overview and the README.
 *
 * Badge rule: a trait is notable when its score reaches the trait's threshold; the badge is the
 * notable trait with the highest score / threshold (ties: the order of TRAITS). A head with no
 * notable trait gets no badge. Attention to BOS is shown but never a badge: most heads rest there
 * when they have nothing to do, so it says little about what a head does.
 */
import type { CompositionScores, CompositionSet, CompositionType, TraitScores } from "./headMetrics";
import type { HeadRef } from "./heads";

export type TraitKey = keyof TraitScores;

export interface TraitInfo {
  key: TraitKey;
  /** Short name, as on the badge ("prev-token 0.62"). */
  label: string;
  /** Column heading in the overview. */
  title: string;
  /** The score a head needs to get this badge; undefined: never a badge. */
  threshold?: number;
  /** One sentence: what the number is. */
  meaning: string;
  /** Where the definition comes from. */
  source: string;
}

const FRAMEWORK = "Elhage et al. 2021, “A Mathematical Framework for Transformer Circuits”";
const DETECTOR = "TransformerLens's head detector; Olsson et al. 2022, “In-context Learning and Induction Heads”";

/** Pattern scores are mean attention on 16 fixed sequences BOS + r + r (r = 50 random tokens). */
export const PATTERN_THRESHOLD = 0.4;
/** The copying score is in [−1, 1]; a random OV circuit scores ≈ 0. */
export const COPYING_THRESHOLD = 0.5;

export const TRAITS: readonly TraitInfo[] = [
  {
    key: "induction",
    label: "induction",
    title: "Induction",
    threshold: PATTERN_THRESHOLD,
    meaning: "mean attention from the second copy of a token to the token that followed its first copy, on repeated random sequences",
    source: DETECTOR,
  },
  {
    key: "prevToken",
    label: "prev-token",
    title: "Previous token",
    threshold: PATTERN_THRESHOLD,
    meaning: "mean attention to the previous position, on the same sequences",
    source: DETECTOR,
  },
  {
    key: "duplicateToken",
    label: "duplicate",
    title: "Duplicate token",
    threshold: PATTERN_THRESHOLD,
    meaning: "mean attention from the second copy of a token to its first copy",
    source: DETECTOR,
  },
  {
    key: "copying",
    label: "copying",
    title: "Copying",
    threshold: COPYING_THRESHOLD,
    meaning:
      "Σλ.real / Σ|λ| over the eigenvalues of the OV circuit W_E W_V W_O W_U: 1 when attending to a token raises that token's own logit",
    source: FRAMEWORK,
  },
  {
    key: "bos",
    label: "BOS",
    title: "BOS",
    meaning: "mean attention to the BOS token, where heads rest when nothing else matches (never a badge)",
    source: DETECTOR,
  },
];

export const COMPOSITION_INFO = {
  meaning:
    "‖OV(earlier) · R(later)‖_F / (‖OV(earlier)‖_F ‖R(later)‖_F): how much of what the earlier head writes the later head reads, " +
    "with R = W_Q W_Kᵀ (Q), W_K W_Qᵀ (K), W_V W_O (V); 0 unless the earlier head is in an earlier layer",
  source: `${FRAMEWORK}; TransformerLens's all_composition_scores`,
  types: {
    q: "The earlier head's output feeds the later head's queries.",
    k: "The earlier head's output feeds the later head's keys (as a previous-token head feeds an induction head).",
    v: "The earlier head's output feeds the later head's values.",
  },
} as const;

/**
 * What a composition score is worth against chance: for independent, rotation-invariant random
 * matrices (any ranks) E‖AB‖²_F = ‖A‖²_F‖B‖²_F / d_model, so their score is ≈ 1/√d_model (numpy,
 * 50 draws each: 0.0626 ± 0.0014 at d_model 256, 0.0441 ± 0.0005 at 512, d_head d_model/8).
 */
export function compositionBaseline(dModel: number): number {
  return 1 / Math.sqrt(dModel);
}

export interface Badge {
  trait: TraitInfo;
  score: number;
  /** "induction 0.90" */
  text: string;
}

/** The head's strongest trait by the badge rule, or undefined when nothing is notable. */
export function strongestTrait(m: TraitScores): Badge | undefined {
  let best: Badge | undefined;
  let bestRatio = 1;
  for (const trait of TRAITS) {
    if (trait.threshold === undefined) continue;
    const score = m[trait.key];
    if (!Number.isFinite(score)) continue;
    const ratio = score / trait.threshold;
    if (ratio >= bestRatio && (!best || ratio > bestRatio)) {
      best = { trait, score, text: `${trait.label} ${score.toFixed(2)}` };
      bestRatio = ratio;
    }
  }
  return best;
}

export const COMPOSITION_NAME: Record<CompositionType, string> = { q: "Q-composition", k: "K-composition", v: "V-composition" };

export interface PathOption {
  layer: number;
  head: number;
  type: CompositionType;
  score: number;
}

/** Every path into head (layer, head) through an earlier head, strongest composition first
 * (ties: earlier layer, lower head, then q, k, v). */
export function pathsInto(c: CompositionSet, layer: number, head: number): PathOption[] {
  const out: PathOption[] = [];
  for (const type of ["q", "k", "v"] as const) {
    const t = c[type];
    for (let l1 = 0; l1 < layer; l1++) {
      for (let h1 = 0; h1 < (t[l1]?.length ?? 0); h1++) {
        const score = t[l1][h1]?.[layer]?.[head];
        if (Number.isFinite(score)) out.push({ layer: l1, head: h1, type, score });
      }
    }
  }
  const typeOrder = { q: 0, k: 1, v: 2 };
  return out.sort((a, b) => b.score - a.score || a.layer - b.layer || a.head - b.head || typeOrder[a.type] - typeOrder[b.type]);
}

/** The strongest pair of one composition type: earlier → later, or undefined for a one-layer model. */
export function strongestComposition(t: CompositionScores): { from: HeadRef; to: HeadRef; score: number } | undefined {
  let best: ReturnType<typeof strongestComposition>;
  t.forEach((byHead, l1) =>
    byHead.forEach((byLayer, h1) =>
      byLayer.forEach((row, l2) =>
        row.forEach((score, h2) => {
          if (l2 > l1 && Number.isFinite(score) && (!best || score > best.score))
            best = { from: { layer: l1, head: h1 }, to: { layer: l2, head: h2 }, score };
        }),
      ),
    ),
  );
  return best;
}
