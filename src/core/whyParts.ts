/**
 * What the Why section says about one explained (query, key) cell (EngineApi `explain`): which
 * terms favour this key over the others, what each residual-stream part carries, and the head's
 * strongest key from a query. Shared by the attention panel (the page) and its host.
 */

/** The parts of an explain answer this needs (ExplainResult has them; core does not import protocol). */
export interface WhyData {
  components: string[];
  /** [keys, C, C] */
  terms: Float64Array;
  /** [keys, C, C]: each term minus its mean over keys 0…query. */
  relative: Float64Array;
  movedAtQuery: number[];
  movedAtKeys: number[][];
}

export interface WhyTerm {
  /** Query-side component index. */
  row: number;
  /** Key-side component index. */
  col: number;
  term: number;
  relative: number;
}

/** The `n` terms at key index `k` (of the answer's keys) that add most to this key's score relative to the other keys. */
export function topTerms(w: WhyData, k: number, n: number): WhyTerm[] {
  const C = w.components.length;
  const all: WhyTerm[] = [];
  for (let r = 0; r < C; r++)
    for (let c = 0; c < C; c++) {
      const i = (k * C + r) * C + c;
      all.push({ row: r, col: c, term: w.terms[i], relative: w.relative[i] });
    }
  return all.sort((a, b) => b.relative - a.relative).slice(0, n);
}

/** Each part's whole relative contribution at key index `k`: query-side parts (row sums) and key-side parts (column sums). */
export function partTotals(w: WhyData, k: number): { query: number[]; key: number[] } {
  const C = w.components.length;
  const query = new Array<number>(C).fill(0),
    key = new Array<number>(C).fill(0);
  for (let r = 0; r < C; r++)
    for (let c = 0; c < C; c++) {
      const v = w.relative[(k * C + r) * C + c];
      query[r] += v;
      key[c] += v;
    }
  return { query, key };
}

/** How many sources of a head's logit effect the Why lists and marks (strip and editor). */
export const TOP_SOURCES = 3;

/** The positions that carry most of the head's logit effect, largest |share| first. */
export function topSources(sources: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: sources.length }, (_, j) => j)
    .sort((a, b) => Math.abs(sources[b]) - Math.abs(sources[a]))
    .slice(0, n);
}

/** The index of the largest value. */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

export type PartKind = "embed" | "pos" | "head" | "bias";

/** One residual-stream part at one position, and the token it carries. */
export interface Part {
  kind: PartKind;
  component: string;
  /** Where the part sits (the query's or the key's position). */
  position: number;
  /** The position of the token it carries: its own (embed), or the one an earlier head attended to most there. */
  carries?: number;
  /** The earlier head, for kind "head". */
  head?: { layer: number; head: number };
}

const HEAD = /^L(\d+)H(\d+)$/;

/**
 * Component `c` at `position`; `moved` is the answer's movedAtQuery (the query's side) or
 * movedAtKeys[k] (the key's side): for each earlier head, in component order, where it attended most.
 */
export function partAt(components: string[], c: number, position: number, moved: number[]): Part {
  const component = components[c];
  if (component === "embed") return { kind: "embed", component, position, carries: position };
  if (component === "pos") return { kind: "pos", component, position };
  const m = HEAD.exec(component);
  if (m) return { kind: "head", component, position, carries: moved[c - 2], head: { layer: Number(m[1]), head: Number(m[2]) } };
  return { kind: "bias", component, position };
}

/** A part in words, tokens named by `token` (the caller quotes and cuts): "L0H3 (moved ' union' from position 12)". */
export function partText(p: Part, token: (position: number) => string): string {
  switch (p.kind) {
    case "embed":
      return `embed ${token(p.position)}`;
    case "pos":
      return `position ${p.position}`;
    case "head":
      return `${p.component} (moved ${token(p.carries!)} from position ${p.carries})`;
    default:
      return "bias";
  }
}

/**
 * The key `query` attends to most in a [T, T] pattern, BOS (position 0, when prepended) left out
 * unless it is the only key: heads park attention there, which explains nothing about the text.
 */
export function strongestKey(weights: ArrayLike<number>, T: number, query: number, bos: boolean): number {
  const first = bos && query > 0 ? 1 : 0;
  let best = first;
  for (let j = first + 1; j <= query; j++) if (weights[query * T + j] > weights[query * T + best]) best = j;
  return best;
}
