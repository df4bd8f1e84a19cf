/** The "token" request: which heads care about one token — its exact key rank in every head. */
import { allHeads } from "../core/heads";
import { HeadLensError } from "../core/errors";
import { exactRowFromDense } from "../core/exactRows";
import { topK } from "../core/selection";
import { HandlerContext } from "../protocol/channel";
import { TokenHead, TokenParams, TokenResult } from "../protocol/engine";
import { AnalysisDeps, HeadAnalyzer } from "./headAnalyzer";
import { exactKeyRank } from "./keyRank";
import { ortKernels } from "./ortKernels";

export async function tokenHeads(
  req: TokenParams,
  ctx: HandlerContext<{ type: "progress"; fraction: number } | { type: "head"; head: TokenHead }>,
  deps: AnalysisDeps,
): Promise<TokenResult> {
  const analyzer = await HeadAnalyzer.open(deps, req);
  const { vocab, config } = analyzer.stored.model;
  const t = resolveToken(req.token, vocab.encode.bind(vocab), vocab.display.bind(vocab), config.d_vocab);
  const all = allHeads(config.n_layers, config.n_heads);
  const heads: TokenHead[] = [];
  for (const [i, h] of all.entries()) {
    ctx.throwIfCancelled();
    // Every key's importance: once per head and prior (an analysis of the head keeps it too).
    const { importance, circuits } = await analyzer.ranking(
      h,
      analyzer.control(ctx.signal, (f) => ctx.emit({ type: "progress", fraction: (i + f) / all.length })),
    );
    const { rank, figures } = await exactKeyRank(circuits, importance, t.id, analyzer.prior.w, ortKernels(analyzer.backend));
    const asQuery = circuits.qk.row(t.id),
      outputs = exactRowFromDense(circuits.ov.row(t.id));
    const row: TokenHead = {
      ...h,
      keyRank: rank,
      importance: figures.importance,
      maxQK: figures.maxQK,
      maxOV: figures.maxOV,
      bestKeys: topK(asQuery, req.n).map((k) => ({ id: k, token: vocab.display(k), score: asQuery[k] })),
      selfOutputRank: outputs.countAbove(outputs.at(t.id)),
    };
    heads.push(row);
    ctx.emit({ type: "head", head: row });
  }
  heads.sort((a, b) => a.keyRank - b.keyRank || b.importance - a.importance || a.layer - b.layer || a.head - b.head);
  return { model: config.model_name, token: t, heads };
}

function resolveToken(
  spec: TokenParams["token"],
  encode: (s: string) => number[],
  display: (id: number) => string,
  V: number,
): { id: number; token: string } {
  if ("id" in spec) {
    if (!Number.isInteger(spec.id) || spec.id < 0 || spec.id >= V)
      throw new HeadLensError(`token id ${spec.id} is outside the vocabulary (0–${V - 1})`, "request.token");
    return { id: spec.id, token: display(spec.id) };
  }
  const ids = encode(spec.text);
  if (ids.length === 0)
    throw new HeadLensError(`"${spec.text}" is no token of this model's vocabulary; try other text or --id N`, "request.token");
  if (ids.length !== 1) {
    const shown = ids.map(display).join(" ");
    throw new HeadLensError(
      `"${spec.text}" is ${ids.length} tokens${ids.length ? ` (${shown})` : ""}; ` +
        `give text that is one token (mind the leading space: " foo" and "foo" differ) or --id N`,
      "request.token",
    );
  }
  return { id: ids[0], token: display(ids[0]) };
}
