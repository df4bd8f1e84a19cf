/**
 * Head scores measured on the user's text (the attention panel's run), beside the head metrics that
 * come from fixed random sequences (headMetrics.ts). Both are means of one attention weight per
 * query, so a head scores the same on a repeated random sequence here as there:
 *
 * - previous-token = mean A[i, i−1] over the text's query positions whose previous position is text
 *   too (with BOS prepended: i ≥ 2, as the random-sequence metric; position 1's previous is BOS,
 *   where heads rest);
 * - induction = mean, over the text's query positions i whose token occurred earlier in the text
 *   (at j < i), of the attention to the tokens after those occurrences, Σ A[i, j+1] over every such
 *   j (TransformerLens's induction detection pattern: every earlier occurrence counts, shifted one
 *   to the right; on a sequence repeated twice it is the diagonal i − n + 1 that the random-sequence
 *   metric averages). null when no token repeats. TransformerLens's detect_head ("mul") sums the
 *   same masked weights but divides by every row (T, BOS included); here the mean is over the
 *   queries that can score, so a text with few repeats is not scored near 0 for that alone.
 *
 * Copying is a property of the weights (the OV circuit's eigenvalues) and is not measured on a text.
 */

export interface TextScores {
  /** null: fewer than two text tokens. */
  prevToken: number | null;
  /** null: no token of the text occurs twice. */
  induction: number | null;
}

/** The key positions each query's induction score sums over ({j+1 : textFrom ≤ j < i, ids[j] = ids[i]}); empty: none. */
export function inductionTargets(ids: readonly number[], textFrom: number): number[][] {
  const seen = new Map<number, number[]>();
  return ids.map((id, i) => {
    if (i < textFrom) return [];
    const earlier = seen.get(id);
    if (!earlier) {
      seen.set(id, [i]);
      return [];
    }
    const targets = earlier.map((j) => j + 1);
    earlier.push(i);
    return targets;
  });
}

/**
 * Every head's scores of one layer from its patterns [H, T, T] (row = query, column = key) on the
 * token ids `ids` (length T); `textFrom` is the first text position (1 with BOS prepended, else 0).
 */
export function textPatternScores(pattern: Float32Array, H: number, ids: readonly number[], textFrom: number): TextScores[] {
  return layerScores(pattern, H, ids.length, textFrom, inductionTargets(ids, textFrom));
}

/** Every layer's scores (patterns per layer [H, T, T]); the induction targets are found once for all layers. */
export function textScoresByLayer(patterns: Float32Array[], H: number, ids: readonly number[], textFrom: number): TextScores[][] {
  const targets = inductionTargets(ids, textFrom);
  return patterns.map((p) => layerScores(p, H, ids.length, textFrom, targets));
}

function layerScores(pattern: Float32Array, H: number, T: number, textFrom: number, targets: number[][]): TextScores[] {
  const firstPrev = textFrom + 1;
  const repeated = targets.filter((t) => t.length > 0).length;
  return Array.from({ length: H }, (_, h) => {
    const base = h * T * T;
    let prev = 0;
    for (let i = firstPrev; i < T; i++) prev += pattern[base + i * T + i - 1];
    let ind = 0;
    targets.forEach((keys, i) => {
      for (const k of keys) ind += pattern[base + i * T + k];
    });
    return { prevToken: T > firstPrev ? prev / (T - firstPrev) : null, induction: repeated ? ind / repeated : null };
  });
}
