/** A head's analysis job under the uniform prior, as tests and benchmarks build it (no model store, no tokenizer). */
import { ModelWeights } from "../../src/core/weights";
import { priorWeights } from "../../src/core/selection";
import { HeadJob } from "../../src/worker/headJob";

export function uniformHeadJob(weights: ModelWeights, layer: number, head: number, sizes: HeadJob["sizes"], modelName = "m"): HeadJob {
  const prior = new Float64Array(weights.config.d_vocab).fill(1 / weights.config.d_vocab);
  return {
    modelName,
    weights,
    bos: 0,
    layer,
    head,
    prior,
    priorW: priorWeights(prior),
    priorSource: "uniform",
    sizes,
    label: String,
    byteLength: () => 1,
  };
}
