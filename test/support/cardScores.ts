/**
 * The model cards' head scores (training/train.py computes the same definitions in PyTorch):
 * previous-token on random full-context sequences, induction on BOS + r + r with |r| = 50.
 */
import { ModelWeights } from "../../src/core/weights";
import { batchPatterns } from "../../src/worker/modelMetrics";
import { OrtBackend } from "../../src/worker/ortBackend";

/** Mean attention along a diagonal `offset` below the main one, over rows [fromRow, T). */
function meanDiagonal(pattern: Float32Array, B: number, H: number, T: number, head: number, offset: number, fromRow: number): number {
  let s = 0,
    n = 0;
  for (let b = 0; b < B; b++) {
    const base = (b * H + head) * T * T;
    for (let i = Math.max(fromRow, offset); i < T; i++) {
      s += pattern[base + i * T + (i - offset)];
      n++;
    }
  }
  return s / n;
}

export async function cardScores(
  backend: OrtBackend,
  w: ModelWeights,
  bos: number,
  rand: () => number,
  n = 16,
  rep = 50,
): Promise<{ prevToken: number[][]; induction: number[][] }> {
  const { d_vocab: V, n_ctx: T, n_heads: H, n_layers: L } = w.config;
  const randomToken = () => 1 + Math.floor(rand() * (V - 2));
  const prev = await batchPatterns(
    backend,
    w,
    Array.from({ length: n }, () => [bos, ...Array.from({ length: T - 1 }, randomToken)]),
  );
  const ind = await batchPatterns(
    backend,
    w,
    Array.from({ length: n }, () => {
      const r = Array.from({ length: rep }, randomToken);
      return [bos, ...r, ...r];
    }),
  );
  const grid = (f: (l: number, h: number) => number) => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => f(l, h)));
  return {
    prevToken: grid((l, h) => meanDiagonal(prev[l], n, H, T, h, 1, 2)),
    induction: grid((l, h) => meanDiagonal(ind[l], n, H, 2 * rep + 1, h, rep - 1, rep + 1)),
  };
}
