/** Runs the attention-only forward pass on onnxruntime, and the textbook head scores on it. */
import { ModelWeights } from "../core/weights";
import { forwardGraph } from "./forwardGraph";
import { OrtBackend } from "./ortBackend";

export interface ForwardResult {
  /** [B, T, V]; empty when only patterns were asked for. */
  logits: Float32Array;
  /** Per layer, [B, H, T, T]. */
  patterns: Float32Array[];
}

export async function runForward(backend: OrtBackend, w: ModelWeights, tokens: number[][], withLogits = true): Promise<ForwardResult> {
  const B = tokens.length, T = tokens[0].length;
  const session = await backend.createSession(forwardGraph(w, T, withLogits));
  try {
    const flat = BigInt64Array.from(tokens.flat().map(BigInt));
    const r = await session.run({ tokens: backend.tensor("int64", flat, [B, T]) });
    return {
      logits: withLogits ? (r.logits.data as Float32Array) : new Float32Array(0),
      patterns: w.blocks.map((_, l) => r[`pattern${l}`].data as Float32Array),
    };
  } finally {
    await session.release();
  }
}

/** Mean attention along a diagonal `offset` below the main one, over rows [fromRow, T). */
export function meanDiagonal(pattern: Float32Array, B: number, H: number, T: number, head: number, offset: number, fromRow: number): number {
  let s = 0, n = 0;
  for (let b = 0; b < B; b++) {
    const base = (b * H + head) * T * T;
    for (let i = Math.max(fromRow, offset); i < T; i++) {
      s += pattern[base + i * T + (i - offset)];
      n++;
    }
  }
  return s / n;
}

export interface HeadScores {
  /** [layer][head]: mean attention from position i to i−1 on random tokens. */
  prevToken: number[][];
  /** [layer][head]: on BOS + r + r (|r| = rep), mean attention from each second-copy token to the
   * token after its first occurrence. */
  induction: number[][];
}

/** The model card's scores (training/train.py computes the same definitions in PyTorch). */
export async function headScores(backend: OrtBackend, w: ModelWeights, bos: number, rand: () => number, n = 16, rep = 50): Promise<HeadScores> {
  const { d_vocab: V, n_ctx: T, n_heads: H, n_layers: L } = w.config;
  const randomToken = () => 1 + Math.floor(rand() * (V - 2));
  const seqs = Array.from({ length: n }, () => [bos, ...Array.from({ length: T - 1 }, randomToken)]);
  const prev = await runForward(backend, w, seqs);
  const repeated = Array.from({ length: n }, () => {
    const r = Array.from({ length: rep }, randomToken);
    return [bos, ...r, ...r];
  });
  const ind = await runForward(backend, w, repeated);
  const grid = (f: (l: number, h: number) => number) => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => f(l, h)));
  return {
    prevToken: grid((l, h) => meanDiagonal(prev.patterns[l], n, H, T, h, 1, 2)),
    induction: grid((l, h) => meanDiagonal(ind.patterns[l], n, H, 2 * rep + 1, h, rep - 1, rep + 1)),
  };
}
