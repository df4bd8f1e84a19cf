/** The "hover" request: a word's tokens under a model and prior, and what the first does in a head. */
import { HeadLensError } from "../core/errors";
import { HoverParams, HoverResult } from "../protocol/engine";
import { circuitsFor } from "./denseStrategy";
import { resolveHeads } from "./headAnalyzer";
import { importanceRounding } from "./keyRank";
import { ModelStore } from "./modelStore";
import { OrtBackend } from "./ortBackend";
import { ortKernels } from "./ortKernels";
import { tokenInHead } from "./tokenInHead";

export async function hoverInfo(req: HoverParams, store: ModelStore, backend: () => Promise<OrtBackend>): Promise<HoverResult> {
  const stored = store.load(req.modelDir);
  const { vocab, config } = stored.model;
  const prior = store.prior(stored, req.priors);
  const ids = vocab.encode(req.text).slice(0, Math.max(0, req.maxTokens));
  const result: HoverResult = {
    model: config.model_name,
    identity: { model: stored.identity, prior: prior.identity },
    vocabSize: vocab.size,
    prior: prior.source,
    tokens: ids.map((id) => ({ id, token: vocab.display(id), p: prior.p[id] })),
  };
  if (!req.head || ids.length === 0) return result;
  const [h] = resolveHeads([req.head], config.n_layers, config.n_heads);
  const tokenId = ids[0];
  if (tokenId < 0 || tokenId >= config.d_vocab)
    throw new HeadLensError(`token id ${tokenId} is outside the vocabulary (0–${config.d_vocab - 1})`, "request.token");
  const be = await backend();
  const circuits = await store.circuits(stored, h.layer, h.head, () =>
    circuitsFor(be, { weights: stored.model.weights, layer: h.layer, head: h.head, bos: vocab.bos }),
  );
  const intervals = store.importance(stored, prior, h);
  const ranks = intervals && { intervals, rounding: (await importanceRounding(circuits, prior.w, ortKernels(be))).loose };
  result.inHead = tokenInHead(circuits, tokenId, h.layer, h.head, prior.w, req.n, (id) => vocab.display(id), ranks);
  return result;
}
