/** The models the tree lists: bundled demo models and user-added folders (remembered per user). */
import * as vscode from "vscode";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ModelConfig } from "../../core/config";
import { errorMessage } from "../../core/errors";
import { readModelConfig } from "../../worker/loaders/localModel";
import { Vocabulary, vocabularyFor } from "../../worker/loaders/vocabulary";
import { HUB_MODELS, HubModelSpec } from "../hub/knownModels";

export interface ModelEntry {
  /** Stable id: "bundled:<name>", "folder:<absolute path>" or "hub:<name>". */
  id: string;
  /** The model folder ("" for a hub model not downloaded and converted yet). */
  dir: string;
  source: "bundled" | "folder" | "hub";
  hub?: HubModelSpec;
  config?: ModelConfig;
  /** Why the folder cannot be used (shown in the tree; analysis refuses with it). */
  error?: string;
}

const FOLDERS_KEY = "headLens.modelFolders";

export class ModelRegistry {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private entries: ModelEntry[] = [];
  private vocabs = new Map<string, Vocabulary>();
  private hashes = new Map<string, { stamp: string; hash: Promise<string> }>();

  constructor(private readonly bundledRoot: string, private readonly state: vscode.Memento, private readonly convertedRoot: string) {
    this.refresh();
  }

  list(): ModelEntry[] {
    return this.entries;
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  refresh(): void {
    const bundled = existsSync(this.bundledRoot)
      ? readdirSync(this.bundledRoot).sort().map((name) => join(this.bundledRoot, name)).filter((d) => statSync(d).isDirectory())
      : [];
    this.entries = [
      ...bundled.map((dir) => this.describe(dir, "bundled")),
      ...this.userFolders().map((dir) => this.describe(dir, "folder")),
      ...HUB_MODELS.map((spec) => this.describeHub(spec)),
    ];
    this.vocabs.clear();
    this.changed.fire();
  }

  async addFolder(dir: string): Promise<ModelEntry> {
    const abs = resolve(dir);
    const folders = this.state.get<string[]>(FOLDERS_KEY, []).filter((d) => d !== abs);
    await this.state.update(FOLDERS_KEY, [...folders, abs]);
    this.refresh();
    return this.get(`folder:${abs}`)!;
  }

  async removeFolder(dir: string): Promise<void> {
    await this.state.update(FOLDERS_KEY, this.state.get<string[]>(FOLDERS_KEY, []).filter((d) => d !== dir));
    const c = vscode.workspace.getConfiguration("headLens");
    const listed = c.get<string[]>("modelFolders", []);
    if (listed.some((d) => resolve(d) === dir)) await c.update("modelFolders", listed.filter((d) => resolve(d) !== dir), vscode.ConfigurationTarget.Global);
    this.refresh();
  }

  /** The model's vocabulary, loaded on first use (host side: hovers and token labels). */
  vocabulary(entry: ModelEntry): Vocabulary {
    if (!entry.config) throw new Error(entry.error ?? "model is not usable");
    let v = this.vocabs.get(entry.id);
    if (!v) {
      v = vocabularyFor(entry.config, entry.dir);
      this.vocabs.set(entry.id, v);
    }
    return v;
  }

  /** sha256 of config.json + model.safetensors, recomputed only when either file changes. */
  contentHash(entry: ModelEntry): Promise<string> {
    const files = [join(entry.dir, "config.json"), join(entry.dir, "model.safetensors")];
    const stamp = files.map((f) => {
      const st = statSync(f, { throwIfNoEntry: false });
      return st ? `${st.size}:${st.mtimeMs}` : "missing";
    }).join("|");
    const hit = this.hashes.get(entry.id);
    if (hit && hit.stamp === stamp) return hit.hash;
    const hash = (async () => {
      const h = createHash("sha256");
      for (const f of files) for await (const chunk of createReadStream(f)) h.update(chunk as Buffer);
      return h.digest("hex");
    })();
    this.hashes.set(entry.id, { stamp, hash });
    hash.catch(() => this.hashes.delete(entry.id));
    return hash;
  }

  /** Folders added with "Add Model Folder…" (per user) plus the `headLens.modelFolders` setting. */
  private userFolders(): string[] {
    const fromSetting = vscode.workspace.getConfiguration("headLens").get<string[]>("modelFolders", []).map((d) => resolve(d));
    return [...new Set([...this.state.get<string[]>(FOLDERS_KEY, []), ...fromSetting])];
  }

  /** A hub model: ready when a converted copy exists, else listed from its known shape. */
  private describeHub(spec: HubModelSpec): ModelEntry {
    const id = `hub:${spec.name}`;
    const converted = existsSync(this.convertedRoot)
      ? readdirSync(this.convertedRoot).filter((d) => d.startsWith(`${spec.name}-`) && existsSync(join(this.convertedRoot, d, "model.safetensors"))).sort().pop()
      : undefined;
    if (converted) return { ...this.describe(join(this.convertedRoot, converted), "hub"), id, hub: spec };
    return { id, dir: "", source: "hub", hub: spec };
  }

  private describe(dir: string, source: ModelEntry["source"]): ModelEntry {
    const id = source === "bundled" ? `bundled:${dir.split(/[\\/]/).pop()}` : `folder:${dir}`;
    try {
      const config = readModelConfig(dir);
      if (!existsSync(join(dir, "model.safetensors"))) return { id, dir, source, error: `${join(dir, "model.safetensors")} is missing` };
      return { id, dir, source, config };
    } catch (e) {
      return { id, dir, source, error: errorMessage(e) };
    }
  }
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
