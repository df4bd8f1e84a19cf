/** A model the extension lists (no `vscode` here: analysis code and its tests use it too). */
import { ModelConfig } from "../../core/config";
import type { ModelSummary } from "../../protocol/page";
import { HubModelSpec } from "../hub/knownModels";

export interface ModelEntry {
  /** Stable id: "bundled:<name>", "folder:<absolute path>" or "hub:<name>". */
  id: string;
  /** The model folder ("" for a hub model not downloaded and converted yet). */
  dir: string;
  source: "bundled" | "folder" | "hub";
  hub?: HubModelSpec;
  /** The model's config, as the engine read it (the host never parses model files). */
  config?: ModelConfig;
  /** Why the folder cannot be used (shown in the tree; analysis refuses with it). */
  error?: string;
}

export function modelName(e: ModelEntry): string {
  return e.hub?.name ?? e.config?.model_name ?? e.dir.split(/[\\/]/).pop() ?? e.dir;
}

/** Layers and heads, known before download for hub models. */
export function modelShape(e: ModelEntry): { layers: number; heads: number } | undefined {
  if (e.config) return { layers: e.config.n_layers, heads: e.config.n_heads };
  if (e.hub?.heads) return { layers: e.hub.layers, heads: e.hub.heads };
  return undefined;
}

/** What a page shows about a loadable model. */
export function modelSummary(model: ModelEntry & { config: ModelConfig }): ModelSummary {
  const c = model.config;
  return { id: model.id, name: modelName(model), nLayers: c.n_layers, nHeads: c.n_heads, dVocab: c.d_vocab, dModel: c.d_model };
}

/** A model that can be analyzed (its engine check passed). */
export type LoadableModel = ModelEntry & { config: ModelConfig };

export function isLoadable(m: ModelEntry | undefined): m is LoadableModel {
  return !!m?.config;
}
