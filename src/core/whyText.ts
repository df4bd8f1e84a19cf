/**
 * "Why" in words, one place for the CLI and the attention panel: each part of the residual stream
 * named with the token it carries, and the terms that most favour a key over the other keys.
 */

/** What the words need of a run and of an `explain` answer. */
export interface WhyView {
  /** Display form of each position's token (`'tok'`). */
  tokens: string[];
  components: string[];
  /** For each earlier head in component order, the position it attended to most: at the query, and at the key. */
  movedAtQuery: number[];
  movedAtKey: number[];
  query: number;
  key: number;
}

export interface NamedTerm {
  /** Row (query side) and column (key side) in the C × C terms. */
  q: number;
  k: number;
  /** What the term adds to this key's score relative to the other keys. */
  relative: number;
  term: number;
}

/** A part as the reader meets it: "embed (' union')", "pos (position 12)", "L0H3 (moved ' of' from position 11)", "bias". */
export function partLabel(v: WhyView, c: number, side: "query" | "key"): string {
  const name = v.components[c];
  const at = side === "query" ? v.query : v.key;
  if (name === "embed") return `embed (${v.tokens[at]})`;
  if (name === "pos") return `pos (position ${at})`;
  if (name === "bias") return "bias";
  const moved = (side === "query" ? v.movedAtQuery : v.movedAtKey)[c - 2];
  return moved === at ? `${name} (${v.tokens[at]})` : `${name} (moved ${v.tokens[moved]} from position ${moved})`;
}

/** The n terms that most favour this key over the others (largest relative contribution first). */
export function topTerms(terms: ArrayLike<number>, relative: ArrayLike<number>, C: number, n: number): NamedTerm[] {
  const all: NamedTerm[] = [];
  for (let q = 0; q < C; q++) for (let k = 0; k < C; k++) all.push({ q, k, relative: relative[q * C + k], term: terms[q * C + k] });
  return all.sort((a, b) => b.relative - a.relative || a.q - b.q || a.k - b.k).slice(0, n);
}

/** Each key-side part's total relative contribution (summed over the query side): which part of the key makes it win. */
export function keySideTotals(relative: ArrayLike<number>, C: number): number[] {
  const out = new Array<number>(C).fill(0);
  for (let q = 0; q < C; q++) for (let k = 0; k < C; k++) out[k] += relative[q * C + k];
  return out;
}

export const signed = (x: number, digits = 2) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(digits);
