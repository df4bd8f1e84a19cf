/** Tree badges and tooltips from a model's head metrics (the rule is in src/core/headTraits.ts). */
import { headName } from "../../core/heads";
import { Badge, COMPOSITION_NAME, compositionBaseline, pathsInto, strongestTrait, TRAITS } from "../../core/headTraits";
import { ModelMetrics } from "../../core/headMetrics";

export function traitBadge(m: ModelMetrics, layer: number, head: number): Badge | undefined {
  const h = m.heads.find((x) => x.layer === layer && x.head === head);
  return h && strongestTrait(h);
}

/** Compositions out of a head into later heads, strongest first. */
function pathsOutOf(m: ModelMetrics, layer: number, head: number): { layer: number; head: number; type: "q" | "k" | "v"; score: number }[] {
  const out: { layer: number; head: number; type: "q" | "k" | "v"; score: number }[] = [];
  for (const type of ["q", "k", "v"] as const) {
    const byLayer = m.composition[type][layer]?.[head] ?? [];
    byLayer.forEach((row, l2) =>
      row.forEach((score, h2) => {
        if (l2 > layer && Number.isFinite(score)) out.push({ layer: l2, head: h2, type, score });
      }),
    );
  }
  return out.sort((a, b) => b.score - a.score);
}

/** What a later head reads an earlier head's output with, by composition type. */
const READS = { q: "queries", k: "keys", v: "values" } as const;

/** Every figure of a head, as Markdown: the badge and why, each metric against its threshold,
 * the strongest compositions in and out (each against the random baseline of a model of width
 * dModel, and what its letter means), and where the definitions come from. */
export function metricsTooltip(m: ModelMetrics, layer: number, head: number, dModel: number): string {
  const h = m.heads.find((x) => x.layer === layer && x.head === head);
  const name = headName(layer, head);
  if (!h) return `**${name}**: no metrics`;
  const badge = strongestTrait(h);
  const lines = [
    `**${name}** · ${badge ? `strongest trait: **${badge.text}**` : "no trait reaches its threshold (no badge)"}`,
    "",
    "| metric | score | badge from |",
    "|---|---:|---:|",
    ...TRAITS.map((t) => `| ${t.label} | ${h[t.key].toFixed(3)} | ${t.threshold === undefined ? "never" : t.threshold.toFixed(2)} |`),
    "",
  ];
  const baseline = compositionBaseline(dModel);
  const name3 = (p: { layer: number; head: number; type: string; score: number }) =>
    `${p.type.toUpperCase()} ${headName(p.layer, p.head)} ${p.score.toFixed(3)} (${(p.score / baseline).toFixed(1)}×)`;
  const into = m.composition ? pathsInto(m.composition, layer, head).slice(0, 3) : [];
  const out = m.composition ? pathsOutOf(m, layer, head).slice(0, 3) : [];
  if (into.length) lines.push(`Strongest compositions into ${name}: ${into.map(name3).join(" · ")}`, "");
  if (out.length) lines.push(`Strongest compositions out of ${name}: ${out.map(name3).join(" · ")}`, "");
  const strongest = into[0]
    ? { from: into[0], to: { layer, head }, type: into[0].type }
    : out[0] && { from: { layer, head }, to: out[0], type: out[0].type };
  if (strongest) {
    const [from, to] = [headName(strongest.from.layer, strongest.from.head), headName(strongest.to.layer, strongest.to.head)];
    lines.push(
      `× = times the random baseline 1/√d_model = ${baseline.toFixed(3)} (what independent random weights score). ` +
        `${COMPOSITION_NAME[strongest.type]}: how much ${to}'s ${READS[strongest.type]} read what ${from} writes.`,
      "",
    );
  }
  lines.push(
    "Badge: the trait with the highest score ÷ threshold among those at or above it. " +
      "Pattern scores: TransformerLens's head detector, Olsson et al. 2022; copying and composition: Elhage et al. 2021. " +
      "**Head Lens: Model Overview** explains each.",
  );
  return lines.join("\n");
}
