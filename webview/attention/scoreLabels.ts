/**
 * What the attention panel says under each head and in the enlarged head's title: the head metrics
 * (measured on fixed random sequences and on the weights, never on the user's text) and the same
 * pattern scores measured on the text in the panel — each labelled with where it was measured, and
 * defined in its tooltip.
 */
import { HeadMetrics, METRIC_SEQUENCES } from "../../src/core/headMetrics";
import type { TextScores } from "../../src/core/textScores";

const f2 = (v: number) => v.toFixed(2);
const f3 = (v: number) => v.toFixed(3);

/** The grid line: "random: ind 0.89 · prev 0.02 · copy 0.31". */
export function randomLine(m: HeadMetrics): string {
  return `random: ind ${f2(m.induction)} · prev ${f2(m.prevToken)} · copy ${f2(m.copying)}`;
}

export function randomTooltip(m: HeadMetrics): string {
  return (
    `Head metrics measured on ${METRIC_SEQUENCES.count} fixed random token sequences, each a run of up to ${METRIC_SEQUENCES.repeat} ` +
    `tokens written twice after BOS — not on this text (the "text:" line is). ` +
    `Induction ${f3(m.induction)}: mean attention from a token of the second copy to the token after its first occurrence. ` +
    `Previous token ${f3(m.prevToken)}: mean attention to the previous token. ` +
    `Copying ${f3(m.copying)}: from the weights (Σλ / Σ|λ| over the eigenvalues λ of the head's full OV circuit W_E W_V W_O W_U). ` +
    `Duplicate token ${f3(m.duplicateToken)}, BOS ${f3(m.bos)}.`
  );
}

const onText = (v: number | null) => (v === null ? "n/a" : f2(v));

/** The grid line: "text: ind 0.78 · prev 0.05" ("ind n/a" when no token repeats). */
export function textLine(s: TextScores): string {
  return `text: ind ${onText(s.induction)} · prev ${onText(s.prevToken)}`;
}

export const TEXT_DEFINITION =
  "Previous token: mean attention from each token of the text to the token just before it (from the second text token on: " +
  "BOS is not a previous token). Induction: mean, over the tokens that occurred earlier in the text, of the attention to the " +
  "token after each earlier occurrence (TransformerLens's induction pattern; all earlier occurrences count); n/a when no token " +
  "repeats. Copying is a property of the weights and is not measured on a text.";

export function textTooltip(s: TextScores): string {
  const ind = s.induction === null ? "n/a (no repeated tokens)" : f3(s.induction);
  const prev = s.prevToken === null ? "n/a (fewer than two text tokens)" : f3(s.prevToken);
  return `Measured on this text: induction ${ind}, previous token ${prev}. ${TEXT_DEFINITION}`;
}

/** The enlarged head's title after its name: both measurements, each named. */
export function titleScores(s: TextScores | undefined, m: HeadMetrics | undefined): string {
  const text = s
    ? ` · on this text: induction ${s.induction === null ? "n/a (no repeated tokens)" : f2(s.induction)} · previous token ${onText(s.prevToken)}`
    : "";
  const random = m
    ? ` · on random sequences: induction ${f2(m.induction)} · previous token ${f2(m.prevToken)} · copying ${f2(m.copying)}`
    : "";
  return text + random;
}
