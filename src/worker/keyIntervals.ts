/**
 * Every key's interval on its importance during pruning, kept from one interval per circuit:
 *   maxQK[k] ∈ [qk.lo, qk.hi],  maxOV[k] ∈ [max(0, ov.lo), max(0, ov.hi)]  (OVn rows have zero mean: max ≥ 0)
 *   imp[k] = maxQK·maxOV·p^0.1 ∈ p^0.1 · (the interval product)
 * Each circuit's interval holds both the exact max and the float32 max the dense pass computes, so
 * the importance interval holds both importances. Tighter bounds for some keys are intersected in.
 */
import { RowMaxBounds } from "../core/factored";
import { keepLargest } from "../core/topK";
import { ImportanceIntervals } from "../core/keyRank";

export class KeyIntervals {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** Exact float32 importance of keys evaluated so far (NaN: not evaluated). */
  readonly exact: Float64Array;

  constructor(
    readonly qk: RowMaxBounds,
    readonly ov: RowMaxBounds,
    private readonly priorW: Float64Array,
  ) {
    const V = priorW.length;
    this.lo = new Float64Array(V);
    this.hi = new Float64Array(V);
    this.exact = new Float64Array(V).fill(Number.NaN);
    for (let k = 0; k < V; k++) this.update(k);
  }

  private update(k: number): void {
    const a = this.qk.lo[k],
      b = this.qk.hi[k],
      cLo = Math.max(0, this.ov.lo[k]),
      cHi = Math.max(0, this.ov.hi[k]);
    if (!(a === a && b === b && cLo === cLo && cHi === cHi)) throw new Error(`importance bound of key ${k} is NaN`); // never prune on a broken bound
    const w = this.priorW[k];
    this.lo[k] = w * (a >= 0 ? a * cLo : a * cHi);
    this.hi[k] = w * (b >= 0 ? b * cHi : b * cLo);
  }

  /** Intersects tighter bounds on one circuit for the listed keys (bounds[i] is for keys[i]). */
  tighten(circuit: "qk" | "ov", keys: ArrayLike<number>, bounds: RowMaxBounds): void {
    const mine = this[circuit];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      mine.lo[k] = Math.max(mine.lo[k], bounds.lo[i]);
      mine.hi[k] = Math.min(mine.hi[k], bounds.hi[i]);
      if (Number.isNaN(this.exact[k])) this.update(k);
    }
  }

  /** Records an exactly evaluated key (float32 figures, as the dense pass computes them). */
  setExact(k: number, importance: number): void {
    this.exact[k] = importance;
  }

  /**
   * A lower bound on the n-th best importance: at least n keys have importance ≥ it (their lower
   * bounds, or their exact values), so a key whose upper bound is below it cannot be in the top n.
   */
  nthBestLowerBound(n: number): number {
    const V = this.lo.length;
    if (n > V || n < 1) return -Infinity;
    const best: number[] = []; // the n largest so far, ascending
    for (let k = 0; k < V; k++) keepLargest(best, Number.isNaN(this.exact[k]) ? this.lo[k] : this.exact[k], n);
    return best[0];
  }

  /** Keys not yet evaluated whose upper bound reaches `threshold` (they could still enter the report). */
  alive(threshold: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.hi.length; k++) if (Number.isNaN(this.exact[k]) && this.hi[k] >= threshold) out.push(k);
    return out;
  }

  /**
   * How many of `keys` would stay alive if the given circuit's max were known exactly — optimistic
   * (its lower bound stands in for it) — to pick which circuit's bound pass prunes more.
   */
  aliveIfExact(circuit: "qk" | "ov", keys: number[], threshold: number): number {
    let n = 0;
    for (const k of keys) {
      const a = circuit === "qk" ? this.qk.lo[k] : this.qk.hi[k];
      const c = Math.max(0, circuit === "ov" ? this.ov.lo[k] : this.ov.hi[k]);
      if (this.priorW[k] * (a >= 0 ? a * c : 0) >= threshold) n++;
    }
    return n;
  }

  /** The intervals hovers and token ranks reuse: exact keys collapse to their float32 value. */
  toImportance(): ImportanceIntervals {
    const lo = Float64Array.from(this.lo),
      hi = Float64Array.from(this.hi);
    for (let k = 0; k < lo.length; k++) if (!Number.isNaN(this.exact[k])) lo[k] = hi[k] = this.exact[k];
    return { lo, hi };
  }
}
