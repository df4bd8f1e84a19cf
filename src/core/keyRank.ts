/**
 * A token's rank among all V keys of a head by importance, with one meaning everywhere (the editor
 * hover, the token table, the CLI's `token`): 0 = the head's most important key, equal importances
 * ranked by id. Importance is the report's own figure, in float64. A strategy's per-key intervals
 * say which keys are surely above the token and which must be evaluated again; an exactly evaluated
 * float32 importance (lo = hi) is first widened by its rounding bound, so float32 near-ties with the
 * token are always settled in float64.
 */

/** Every key's importance, exactly (lo = hi, a float32 pass) or within rigorous bounds. */
export interface ImportanceIntervals {
  lo: Float64Array;
  hi: Float64Array;
}

/** Whether key `k` of importance `v` ranks above token `t` of importance `imp`. */
function ranksAbove(v: number, k: number, imp: number, t: number): boolean {
  return v > imp || (v === imp && k < t);
}

/**
 * The keys surely above token `t` (importance `imp`), and those whose interval holds `imp` (their
 * order against the token needs their exact importance). `rounding(k)` bounds the error of key k's
 * float32-evaluated importance.
 */
export function classifyKeys(
  intervals: ImportanceIntervals,
  rounding: (k: number) => number,
  t: number,
  imp: number,
): { above: number; open: number[] } {
  let above = 0;
  const open: number[] = [];
  for (let k = 0; k < intervals.lo.length; k++) {
    if (k === t) continue;
    let lo = intervals.lo[k],
      hi = intervals.hi[k];
    if (lo === hi) {
      const e = rounding(k);
      lo -= e;
      hi += e;
    }
    if (lo > imp) above++;
    else if (hi >= imp) open.push(k);
  }
  return { above, open };
}

/** How many of `keys` rank above token `t`, from their exact (float64) importances. */
export function countAbove(keys: readonly number[], exact: (k: number) => number, t: number, imp: number): number {
  let n = 0;
  for (const k of keys) if (ranksAbove(exact(k), k, imp, t)) n++;
  return n;
}
