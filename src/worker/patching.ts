/**
 * The `patch` request: activation patching as TransformerLens's get_act_patch_attn_head_out_all_pos.
 * The clean and the corrupted texts run once each; then, for every head, the corrupted run with that
 * head's result (z, so z·W_O) at every position taken from the clean run — only the layers from the
 * patched head's on are recomputed (patchGraph.ts), from the corrupted run's residual stream there.
 * Metric: logit[answer] − logit[wrong] at the last position.
 */
import type * as Ort from "onnxruntime-node";
import { HeadLensError } from "../core/errors";
import { ModelWeights } from "../core/weights";
import { HandlerContext } from "../protocol/channel";
import { PatchParams, PatchResult, TokenChoice } from "../protocol/whatIf";
import { runBody, runUnembed } from "./attentionRun";
import { Vocabulary } from "./loaders/vocabulary";
import { DEFAULT_TOP_K, RunTextDeps, tokensFor } from "./runText";

/** logit[a] − logit[b] for one final normalized row. */
function logitDiff(w: ModelWeights, row: ArrayLike<number>, a: number, b: number): number {
  const { d_model: D, d_vocab: V } = w.config;
  let s = w.b_U.data[a] - w.b_U.data[b];
  for (let d = 0; d < D; d++) s += row[d] * (w.W_U.data[d * V + a] - w.W_U.data[d * V + b]);
  return s;
}

function tokenOf(vocab: Vocabulary, choice: TokenChoice, what: string): number {
  if ("id" in choice) {
    if (!(Number.isInteger(choice.id) && choice.id >= 0 && choice.id < vocab.size))
      throw new HeadLensError(`${what} id ${choice.id} is outside the vocabulary (0–${vocab.size - 1})`, "request.token");
    return choice.id;
  }
  const ids = vocab.encode(choice.text);
  if (ids.length !== 1)
    throw new HeadLensError(
      `${what} "${choice.text}" is ${ids.length} tokens, not one (note the leading space: " the" ≠ "the")`,
      "request.token",
    );
  return ids[0];
}

export async function patch(req: PatchParams, ctx: HandlerContext<never>, deps: RunTextDeps): Promise<PatchResult> {
  const t0 = performance.now();
  const stored = deps.store.load(req.modelDir);
  const { config, vocab, weights: w } = stored.model;
  const clean = tokensFor(vocab, req.clean, config.n_ctx),
    corrupt = tokensFor(vocab, req.corrupt, config.n_ctx);
  const T = clean.tokens.length;
  if (corrupt.tokens.length !== T)
    throw new HeadLensError(
      `the clean text is ${T} tokens and the corrupted one ${corrupt.tokens.length}: patching needs the same length (edit the corrupted copy token for token)`,
      "request.lengths",
    );
  const { n_layers: L, n_heads: H, d_head: E, d_model: D } = config;
  const backend = await deps.backend();
  const lease = deps.runs.sessionsFor(backend).lease(`${stored.model.dir}|${stored.identity}`, w);
  try {
    const ids = (r: typeof clean) => r.tokens.map((t) => t.id);
    const body = await lease.body();
    const c = await runBody(backend, body, w, ids(clean));
    ctx.throwIfCancelled();
    const k = await runBody(backend, body, w, ids(corrupt));
    const lastRow = (final: Float32Array) => final.subarray((T - 1) * D, T * D);
    // The defaults: each run's top prediction, from the unembedding session the attention runs use (same K: not rebuilt).
    const K = Math.min(DEFAULT_TOP_K, config.d_vocab);
    const topToken = async (final: Float32Array) =>
      (await runUnembed(backend, await lease.unembed(K), w, lastRow(final), [0], K, 1, () => ctx.throwIfCancelled())).topId[0];
    const answer = req.answer ? tokenOf(vocab, req.answer, "answer") : await topToken(c.final);
    const wrong = req.wrong ? tokenOf(vocab, req.wrong, "wrong") : await topToken(k.final);
    if (answer === wrong)
      throw new HeadLensError(
        `the answer and the wrong token are both ${vocab.display(answer)}` +
          (req.wrong || req.answer ? "" : " (the corrupted run predicts the clean run's answer too)") +
          ": say which token is wrong (--wrong TOK or --wrong-id N)",
        "request.answer",
      );
    const metric = (row: ArrayLike<number>) => logitDiff(w, row, answer, wrong);
    const keep = new Uint8Array(T * T);
    for (let i = 0; i < T; i++) keep.fill(1, i * T, i * T + i + 1);
    const feedsBase = (l: number): Record<string, Ort.Tensor> => ({
      resid: backend.tensor("float32", k.residPre[l], [T, D]),
      keep: backend.tensor("bool", keep, [T, T]),
      zPatch: backend.tensor("float32", c.z[l], [H, T, E]),
      last: backend.tensor("int64", BigInt64Array.from([BigInt(T - 1)]), [1]),
      ...(config.positional_embedding_type === "shortformer"
        ? { pos: backend.tensor("float32", w.W_pos.data.slice(0, T * D), [T, D]) }
        : {}),
    });
    const patched = async (l: number, mask: Float32Array): Promise<number> => {
      ctx.throwIfCancelled();
      const r = await (await lease.tail(l)).run({ ...feedsBase(l), mask: backend.tensor("float32", mask, [H, T, 1]) });
      return metric(r.lastRow.data as Float32Array);
    };
    const heads = new Float64Array(L * H);
    const one = req.positionsOf;
    if (
      one &&
      !(Number.isInteger(one.layer) && Number.isInteger(one.head) && one.layer >= 0 && one.layer < L && one.head >= 0 && one.head < H)
    )
      throw new HeadLensError(`no head L${one.layer}H${one.head} in this model (${L} layers × ${H} heads)`, "request.head");
    const positions = req.positions || one ? new Float64Array(L * H * T).fill(NaN) : undefined;
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const mask = new Float32Array(H * T);
        mask.fill(1, h * T, (h + 1) * T);
        heads[l * H + h] = await patched(l, mask);
        if (positions && (req.positions || (one!.layer === l && one!.head === h)))
          for (let t = 0; t < T; t++) {
            const one = new Float32Array(H * T);
            one[h * T + t] = 1;
            positions[(l * H + h) * T + t] = await patched(l, one);
          }
      }
    return {
      model: config.model_name,
      identity: stored.identity,
      nLayers: L,
      nHeads: H,
      cleanTokens: clean.tokens,
      corruptTokens: corrupt.tokens,
      answer: { id: answer, token: vocab.display(answer) },
      wrong: { id: wrong, token: vocab.display(wrong) },
      clean: metric(lastRow(c.final)),
      corrupt: metric(lastRow(k.final)),
      heads,
      ...(positions ? { positions } : {}),
      elapsedMs: performance.now() - t0,
    };
  } finally {
    lease.done();
  }
}
