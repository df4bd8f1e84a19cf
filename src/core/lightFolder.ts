/**
 * The light folder: what the timeline read of one checkpoint, kept in the cache under the file's
 * etag so nothing is read twice. `tensors.safetensors` holds the light tensors (W_E's rows and
 * W_pos's first rows only, in that order), `light.json` the checkpoint's config, BOS and which rows.
 */
import { ModelConfig, parseConfig } from "./config";
import { HeadLensError } from "./errors";
import { LightSpec } from "./lightCheckpoint";

export const LIGHT_TENSORS_FILE = "tensors.safetensors";
export const LIGHT_JSON_FILE = "light.json";

export interface LightFolderInfo {
  config: ModelConfig;
  bos: number;
  spec: LightSpec;
  /** The checkpoint it was read from (for messages). */
  source: string;
}

export function parseLightInfo(raw: unknown, label: string): LightFolderInfo {
  const o = raw as Partial<LightFolderInfo>;
  const bad = (what: string): never => {
    throw new HeadLensError(`${label}: ${what}; delete the folder and run the timeline again`, "model.light");
  };
  if (typeof o !== "object" || o === null) bad("not a light-folder description");
  const config = parseConfig(o.config, label, "checkpoint");
  const spec = o.spec ?? bad("no spec");
  if (!Number.isSafeInteger(o.bos) || o.bos! < 0 || o.bos! >= config.d_vocab) bad(`BOS ${String(o.bos)} is not an id`);
  if (
    !Array.isArray(spec.rows) ||
    !spec.rows.every((r) => Array.isArray(r) && r.length === 2 && r[0] >= 0 && r[0] < r[1] && r[1] <= config.d_vocab)
  )
    bad("its rows are not runs of ids");
  if (!Number.isSafeInteger(spec.positions) || spec.positions < 1 || spec.positions > config.n_ctx) bad("its positions are out of range");
  return { config, bos: o.bos!, spec, source: String(o.source ?? label) };
}
