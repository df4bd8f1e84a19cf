/**
 * What the attention panel's Why needs beside the words (whyText.ts, shared with the CLI): which
 * part of the residual stream is an earlier head and where it sits (the part's links), the key a
 * Why opens on when none is given, and the top sources of a head's logit effect.
 */

/** One residual-stream part at one position, and the token it carries. */
export interface Part {
  kind: "embed" | "pos" | "head" | "bias";
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

/**
 * The key `query` attends to most in a [T, T] pattern, BOS (position 0, when prepended) left out
 * unless it is the only key: heads park attention there, which explains nothing about the text.
 * (The engine's `explain` answers the same as its `strongestKey`; this picks the key to ask about.)
 */
export function strongestNonBosKey(weights: ArrayLike<number>, T: number, query: number, bos: boolean): number {
  const first = bos && query > 0 ? 1 : 0;
  let best = first;
  for (let j = first + 1; j <= query; j++) if (weights[query * T + j] > weights[query * T + best]) best = j;
  return best;
}

/** How many sources of a head's logit effect the Why lists and marks (strip and editor). */
export const TOP_SOURCES = 3;

/** The positions that carry most of the head's logit effect, largest |share| first. */
export function topSources(sources: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: sources.length }, (_, j) => j)
    .sort((a, b) => Math.abs(sources[b]) - Math.abs(sources[a]))
    .slice(0, n);
}
