/**
 * The `explain` request: why one head attends from a query to its keys, on a run the worker keeps
 * (core/scoreAttribution.ts holds the mathematics). Positions are checked here so that a bad one
 * gets one clear message.
 */
import { HeadLensError } from "../core/errors";
import { attributeScore } from "../core/scoreAttribution";
import { ExplainParams, ExplainResult } from "../protocol/explain";
import { AttentionRuns } from "./runText";

export function explain(req: ExplainParams, runs: AttentionRuns): ExplainResult {
  const t0 = performance.now();
  const { layer, head, query, key } = req;
  const run = runs.find(req.runId, layer, head);
  const T = run.hooks.ids.length;
  if (!(Number.isInteger(query) && query >= 0 && query < T))
    throw new HeadLensError(`query position ${query} is outside the text's ${T} tokens (positions 0–${T - 1})`, "request.position");
  if (key !== undefined && !(Number.isInteger(key) && key >= 0 && key <= query))
    throw new HeadLensError(
      `key position ${key} is not one the query at ${query} sees (keys 0–${query}: attention is causal)`,
      "request.position",
    );
  const a = attributeScore(run.weights, run.hooks, layer, head, query, key);
  const row = run.hooks.patterns[layer].subarray((head * T + query) * T, (head * T + query) * T + query + 1);
  const from = run.startsWithBos && query > 0 ? 1 : 0;
  let strongestKey = from;
  for (let j = from + 1; j <= query; j++) if (row[j] > row[strongestKey]) strongestKey = j;
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
