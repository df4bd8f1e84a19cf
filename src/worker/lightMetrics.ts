/** The "lightMetrics" request: every metric but copying, of a checkpoint the host read in part (core/lightFolder.ts). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HeadLensError } from "../core/errors";
import { lightConfig, lightSequences, lightTensorNames, lightWeights } from "../core/lightCheckpoint";
import { LIGHT_JSON_FILE, LIGHT_TENSORS_FILE, parseLightInfo } from "../core/lightFolder";
import { processWeights } from "../core/processing";
import { parseSafetensors, readFloatTensor } from "../core/safetensors";
import { checkFinite, checkShape } from "../core/weights";
import type { LightMetrics, LightMetricsParams } from "../protocol/timeline";
import { readBoundedJson } from "./loaders/jsonFile";
import { weightMetrics } from "./modelMetrics";
import { OrtBackend } from "./ortBackend";

export async function lightMetrics({ dir }: LightMetricsParams, backend: OrtBackend): Promise<LightMetrics> {
  const jsonPath = join(dir, LIGHT_JSON_FILE);
  const info = parseLightInfo(readBoundedJson(jsonPath, 1024 * 1024, "light folder", "model.light"), jsonPath);
  const small = lightConfig(info.config, info.spec);
  const file = parseSafetensors(readFileSync(join(dir, LIGHT_TENSORS_FILE)), join(dir, LIGHT_TENSORS_FILE));
  const read = new Map<string, Float32Array>();
  for (const [name, shape] of lightTensorNames(small)) {
    const entry = file.tensors.get(name);
    if (!entry)
      throw new HeadLensError(`${file.label}: tensor "${name}" is missing; delete the folder and run the timeline again`, "model.light");
    checkShape(file.label, name, entry.shape, shape);
    const { data, finite } = readFloatTensor(file, name);
    if (finite !== true) checkFinite(file.label, name, data);
    read.set(name, data);
  }
  const w = processWeights(lightWeights(info.config, info.spec, read), undefined, true);
  return weightMetrics(w, lightSequences(info.config, info.spec, info.bos), backend);
}
