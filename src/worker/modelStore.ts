/**
 * The worker's model state — the only copy in Head Lens: loaded models (processed weights,
 * vocabulary), their priors, and per-head figures reused by hovers. Every entry is keyed by
 * identity (the content hash of the files it came from), so an edited file is never served stale.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { HeadCircuits } from "../core/circuits";
import { ModelConfig } from "../core/config";
import { errorCode, errorMessage } from "../core/errors";
import { PriorSpec } from "../core/priorSpec";
import { processWeights } from "../core/processing";
import { priorWeights } from "../core/selection";
import { Identity, ModelDescription, ModelMetrics, ModelRequest } from "../protocol/engine";
import { fileHash, fileStamp, sha256 } from "./fileIdentity";
import { ImportanceIntervals } from "./headJob";
import { inspectModelFolder, LoadedModel, loadLocalModel, readModelConfig } from "./loaders/localModel";
import { resolvePrior } from "./loaders/priors";

export interface PriorEntry {
  identity: string;
  /** Human-readable, e.g. "bundled (the model's training corpus)". */
  source: string;
  p: Float64Array;
  /** p^0.1 */
  w: Float64Array;
}

export interface StoredModel {
  identity: string;
  /** The loaded model; `weights` are the processed ones (the raw copy is dropped). */
  model: LoadedModel;
  priors: Map<string, PriorEntry>;
  /** Every key's importance of analyzed heads, by `${prior identity}|${layer}:${head}` (hover ranks). */
  importance: Map<string, ImportanceIntervals>;
  /** Head metrics and composition scores, once computed. */
  metrics?: ModelMetrics & { identity: string };
}

/** A model's identity: its files' content hashes, and the stamps they were read under. */
interface ModelFiles {
  identity: string;
  stamps: string;
  config: ModelConfig;
}

export class ModelStore {
  private readonly models = new Map<string, StoredModel>();
  /** The most recently used head circuits (hovers ask about the head on screen, repeatedly). */
  private lastCircuits?: { key: string; circuits: HeadCircuits };

  constructor(private readonly mediaDir: string) {}

  /** config.json, the safetensors header against it, and the vocabulary checked; no weight is read. */
  describe(modelDir: string): ModelDescription {
    const dir = resolve(modelDir);
    try {
      return { dir, config: inspectModelFolder(dir) };
    } catch (e) {
      return { dir, error: errorMessage(e), code: errorCode(e) };
    }
  }

  identify(req: ModelRequest): Identity {
    const files = this.files(req.modelDir);
    return { model: files.identity, prior: resolvePrior(req.priors, this.priorFiles(req.modelDir, files.config)).identity };
  }

  /** The model, loaded (and processed) once per content; reloaded when any of its files changes. */
  load(modelDir: string): StoredModel {
    const dir = resolve(modelDir);
    for (let attempt = 0; ; attempt++) {
      const before = this.files(dir);
      const hit = this.models.get(dir);
      if (hit && hit.identity === before.identity) return hit;
      this.models.delete(dir); // drop the stale copy before loading the new one (memory)
      if (this.lastCircuits?.key.startsWith(`${dir}|`)) this.lastCircuits = undefined;
      const raw = loadLocalModel(dir);
      // A file replaced while it was read: its hash no longer names what was loaded; read again.
      if (this.stamps(dir, before.config) !== before.stamps && attempt < 2) continue;
      const entry: StoredModel = {
        identity: before.identity,
        model: { ...raw, weights: processWeights(raw.weights, undefined, true) },
        priors: new Map(),
        importance: new Map(),
      };
      this.models.set(dir, entry);
      return entry;
    }
  }

  prior(m: StoredModel, spec: PriorSpec): PriorEntry {
    const source = resolvePrior(spec, this.priorFiles(m.model.dir, m.model.config));
    let entry = m.priors.get(source.identity);
    if (!entry) {
      const prior = source.build(m.model.vocab);
      entry = { identity: source.identity, source: prior.source, p: prior.p, w: priorWeights(prior.p) };
      m.priors.set(source.identity, entry);
    }
    return entry;
  }

  /** A head's circuits, kept for the last head asked about. */
  async circuits(m: StoredModel, layer: number, head: number, build: () => Promise<HeadCircuits>): Promise<HeadCircuits> {
    const key = `${m.model.dir}|${m.identity}|${layer}:${head}`;
    if (this.lastCircuits?.key !== key) this.lastCircuits = { key, circuits: await build() };
    return this.lastCircuits.circuits;
  }

  rememberCircuits(m: StoredModel, layer: number, head: number, circuits: HeadCircuits): void {
    this.lastCircuits = { key: `${m.model.dir}|${m.identity}|${layer}:${head}`, circuits };
  }

  private files(dir: string): ModelFiles {
    const config = readModelConfig(dir);
    const paths = modelFiles(dir, config);
    const parts = paths.map((p) => `${p.slice(dir.length)}=${fileHash(p) ?? "missing"}`);
    return { identity: sha256(parts.join("\n")), stamps: this.stamps(dir, config), config };
  }

  private stamps(dir: string, config: ModelConfig): string {
    return modelFiles(dir, config).map(fileStamp).join("|");
  }

  private priorFiles(dir: string, config: ModelConfig) {
    return { modelDir: resolve(dir), modelPriorsFile: config.priors, mediaDir: this.mediaDir };
  }
}

/** Every file whose bytes change what Head Lens computes or shows for a model folder. */
function modelFiles(dir: string, config: ModelConfig): string[] {
  const files = [join(dir, "config.json"), join(dir, "model.safetensors")];
  const tokenizer = join(dir, "tokenizer.json");
  if (existsSync(tokenizer)) files.push(tokenizer);
  if (config.vocab_map) files.push(join(dir, config.vocab_map));
  return files;
}
