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
import { ModelMetrics } from "../core/headMetrics";
import { Identity, ModelDescription, ModelRequest } from "../protocol/engine";
import { fileHash, fileStamp, sha256 } from "./fileIdentity";
import { headKey, HeadRef } from "../core/heads";
import { ImportanceIntervals } from "../core/keyRank";
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

/** A loaded model, named by its identity. What is derived from it is kept by the store (its methods). */
export interface StoredModel {
  readonly identity: string;
  /** The loaded model; `weights` are the processed ones (the raw copy is dropped). */
  readonly model: LoadedModel;
}

/** What the store derives from one loaded model and keeps with it (dropped with it). */
interface Derived {
  priors: Map<string, PriorEntry>;
  /** Every key's importance of analyzed heads, by prior identity and head (hover and token ranks). */
  importance: Map<string, ImportanceIntervals>;
  /** Head metrics and composition scores, once computed. */
  metrics?: ModelMetrics;
}

/** A model's identity: its files' content hashes, and the stamps they were read under. */
interface ModelFiles {
  identity: string;
  stamps: string;
  config: ModelConfig;
}

export class ModelStore {
  private readonly models = new Map<string, StoredModel & Derived>();
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
    return this.lookup(req).identity;
  }

  /** The identity results for this model and prior would have now, and the model's config: its
   * files are hashed (once per stamp) and the prior's file read, but no weight is loaded. */
  lookup(req: ModelRequest): { identity: Identity; config: ModelConfig } {
    const files = this.files(req.modelDir);
    return {
      identity: { model: files.identity, prior: resolvePrior(req.priors, this.priorFiles(req.modelDir, files.config)).identity },
      config: files.config,
    };
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
      const entry: StoredModel & Derived = {
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
    const priors = this.derived(m).priors;
    let entry = priors.get(source.identity);
    if (!entry) {
      const prior = source.build(m.model.vocab);
      entry = { identity: source.identity, source: prior.source, p: prior.p, w: priorWeights(prior.p) };
      priors.set(source.identity, entry);
    }
    return entry;
  }

  /** Every key's importance of a head under a prior, if an analysis computed it. */
  importance(m: StoredModel, prior: PriorEntry, h: HeadRef): ImportanceIntervals | undefined {
    return this.derived(m).importance.get(`${prior.identity}|${headKey(h)}`);
  }

  /** Keeps what an analysis of a head's direct path computed: every key's importance and the circuits. */
  rememberHead(m: StoredModel, prior: PriorEntry, h: HeadRef, a: { importance: ImportanceIntervals; circuits: HeadCircuits }): void {
    this.derived(m).importance.set(`${prior.identity}|${headKey(h)}`, a.importance);
    this.rememberCircuits(m, h.layer, h.head, a.circuits);
  }

  metrics(m: StoredModel): ModelMetrics | undefined {
    return this.derived(m).metrics;
  }

  rememberMetrics(m: StoredModel, metrics: ModelMetrics): void {
    this.derived(m).metrics = metrics;
  }

  /** What is kept with a model; a model the store has dropped (reloaded) keeps nothing new. */
  private derived(m: StoredModel): Derived {
    const live = this.models.get(m.model.dir);
    return live === m ? live : { priors: new Map(), importance: new Map() };
  }

  /** A head's circuits, kept for the last head asked about. */
  async circuits(m: StoredModel, layer: number, head: number, build: () => Promise<HeadCircuits>): Promise<HeadCircuits> {
    const key = `${m.model.dir}|${m.identity}|${layer}:${head}`;
    if (this.lastCircuits?.key !== key) this.lastCircuits = { key, circuits: await build() };
    return this.lastCircuits.circuits;
  }

  private rememberCircuits(m: StoredModel, layer: number, head: number, circuits: HeadCircuits): void {
    this.lastCircuits = { key: `${m.model.dir}|${m.identity}|${layer}:${head}`, circuits };
  }

  /** Hashed under the resolved path: file names are relative to it, so "m/", "a/../m" and "m" name one identity. */
  private files(modelDir: string): ModelFiles {
    const dir = resolve(modelDir);
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
