/** The models the tree lists: bundled demo models and user-added folders (remembered per user). */
import * as vscode from "vscode";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ModelConfig } from "../core/config";
import { errorMessage } from "../core/errors";
import { readModelConfig } from "../models/localModel";
import { Vocabulary, vocabularyFor } from "../models/vocabulary";

export interface ModelEntry {
  /** Stable id: "bundled:<name>" or "folder:<absolute path>". */
  id: string;
  dir: string;
  source: "bundled" | "folder";
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

  constructor(private readonly bundledRoot: string, private readonly state: vscode.Memento) {
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
  return e.config?.model_name ?? e.dir.split(/[\\/]/).pop() ?? e.dir;
}
