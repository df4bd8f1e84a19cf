/** The "token" request: which heads care about one token — its exact key rank in every head. */
import { HeadLensError } from "../core/errors";
import { topK } from "../core/selection";
import { HandlerContext } from "../protocol/channel";
import { TokenHead, TokenParams, TokenResult } from "../protocol/engine";
import { AnalysisDeps, headJob, resolveHeads } from "./analyzeHeads";
import { analyzeHeadDense, circuitsFor } from "./denseStrategy";
import { exactKeyRank } from "./keyRank";
import { CancelledError } from "./ortBackend";
import { ortKernels } from "./ortKernels";
import { analyzeHeadPruned, resolveStrategy } from "./prunedStrategy";

export async function tokenHeads(req: TokenParams, ctx: HandlerContext<{ type: "progress"; fraction: number } | { type: "head"; head: TokenHead }>, deps: AnalysisDeps): Promise<TokenResult> {
  const check = () => {
    if (ctx.signal.aborted) throw new CancelledError();
  };
  const be = await deps.backend();
  const stored = deps.store.load(req.modelDir);
  const { vocab, config } = stored.model;
  const t = resolveToken(req.token, vocab.encode.bind(vocab), vocab.display.bind(vocab), config.d_vocab);
  const prior = deps.store.prior(stored, req.priors);
  const analyze = resolveStrategy(req.strategy ?? "auto", be.ep, config.d_vocab) === "dense" ? analyzeHeadDense : analyzeHeadPruned;
  const all = resolveHeads("all", config.n_layers, config.n_heads);
  const heads: TokenHead[] = [];
  for (const [i, { layer, head }] of all.entries()) {
    check();
    const key = `${prior.identity}|${layer}:${head}`;
    let intervals = stored.importance.get(key);
    let circuits;
    if (!intervals) {
      // Every key's importance (the strategy's intervals), once per head and prior: also serves hovers.
      const r = await analyze(be, headJob(stored, layer, head, prior, { nKeys: 1, nQueries: 0, nOutputs: 0 }), {
        check, blockBytes: deps.blockBytes, progress: (f) => ctx.emit({ type: "progress", fraction: (i + f) / all.length }),
      });
      stored.importance.set(key, (intervals = r.importance));
      deps.store.rememberCircuits(stored, layer, head, (circuits = r.circuits));
    } else circuits = await deps.store.circuits(stored, layer, head, () => circuitsFor(be, { weights: stored.model.weights, layer, head, bos: vocab.bos }));
    const { rank, figures } = await exactKeyRank(circuits, intervals, t.id, prior.w, ortKernels(be));
    const asQuery = circuits.qk.row(t.id), outputs = circuits.ov.row(t.id);
    let selfOutputRank = 0;
    for (let o = 0; o < outputs.length; o++) if (outputs[o] > outputs[t.id]) selfOutputRank++;
    const h: TokenHead = {
      layer, head, keyRank: rank, importance: figures.importance, maxQK: figures.maxQK, maxOV: figures.maxOV,
      bestKeys: topK(asQuery, req.n).map((k) => ({ id: k, token: vocab.display(k), score: asQuery[k] })), selfOutputRank,
    };
    heads.push(h);
    ctx.emit({ type: "head", head: h });
  }
  heads.sort((a, b) => a.keyRank - b.keyRank || b.importance - a.importance || a.layer - b.layer || a.head - b.head);
  return { model: config.model_name, token: t, heads };
}

function resolveToken(spec: TokenParams["token"], encode: (s: string) => number[], display: (id: number) => string, V: number): { id: number; token: string } {
  if ("id" in spec) {
    if (!Number.isInteger(spec.id) || spec.id < 0 || spec.id >= V) throw new HeadLensError(`token id ${spec.id} is outside the vocabulary (0–${V - 1})`, "request.token");
    return { id: spec.id, token: display(spec.id) };
  }
  const ids = encode(spec.text);
  if (ids.length === 0) throw new HeadLensError(`"${spec.text}" is no token of this model's vocabulary; try other text or --id N`, "request.token");
  if (ids.length !== 1) {
    const shown = ids.map(display).join(" ");
    throw new HeadLensError(`"${spec.text}" is ${ids.length} tokens${ids.length ? ` (${shown})` : ""}; give text that is one token (mind the leading space: " foo" and "foo" differ) or --id N`, "request.token");
  }
  return { id: ids[0], token: display(ids[0]) };
}
