/**
 * The `explain` request: why one head attends from a query to its keys, on a run the worker keeps
 * (core/scoreAttribution.ts holds the mathematics). Positions are checked here so that a bad one
 * gets one clear message.
 */
import { HeadLensError } from "../core/errors";
import { attributeScore } from "../core/scoreAttribution";
import { strongestNonBosKey } from "../core/whyParts";
import { ExplainParams, ExplainResult } from "../protocol/explain";
import { AttentionRuns } from "./runText";

export function explain(req: ExplainParams, runs: AttentionRuns): ExplainResult {
  const t0 = performance.now();
  const { layer, head, query, key } = req;
  const run = runs.find(req.runId, layer, head);
  const T = run.hooks.ids.length;
  // A path ablation feeds one head other inputs than the residual stream's parts: there is nothing exact to split.
  if (run.ablations.some((a) => a.into))
    throw new HeadLensError(
      "this run has a path ablation; Why explains runs without one (restore the model, or ablate whole heads)",
      "request.ablated",
    );
  if (!(Number.isInteger(query) && query >= 0 && query < T))
    throw new HeadLensError(`query position ${query} is outside the text's ${T} tokens (positions 0–${T - 1})`, "request.position");
  if (key !== undefined && key !== "strongest" && !(Number.isInteger(key) && key >= 0 && key <= query))
    throw new HeadLensError(
      `key position ${key} is not one the query at ${query} sees (keys 0–${query}: attention is causal)`,
      "request.position",
    );
  const pattern = run.hooks.patterns[layer].subarray(head * T * T, (head + 1) * T * T);
  const strongestKey = strongestNonBosKey(pattern, T, query, run.startsWithBos);
  const a = attributeScore(run.weights, run.hooks, layer, head, query, key === "strongest" ? strongestKey : key);
  return {
    runId: req.runId,
    model: run.model,
    identity: run.identity,
    layer,
    head,
    query,
    strongestKey,
    ...a,
    elapsedMs: performance.now() - t0,
  };
}
