/** The models the tree lists: bundled demo models and user-added folders (remembered per user). */
import * as vscode from "vscode";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { errorMessage } from "../../core/errors";
import { EngineClient } from "../engineClient";
import { HUB_MODELS, HubModelSpec } from "../hub/knownModels";
import { ModelEntry } from "./modelEntry";
import { readSettings, writeSetting } from "./settings";

const FOLDERS_KEY = "headLens.modelFolders";

export class ModelRegistry {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private entries: ModelEntry[] = [];
  private refreshing: Promise<void>;

  constructor(
    private readonly bundledRoot: string,
    private readonly state: vscode.Memento,
    private readonly convertedRoot: string,
    private readonly engine: () => EngineClient,
  ) {
    this.refreshing = this.refresh();
  }

  /** Resolves once the models listed at the last refresh have been described. */
  get ready(): Promise<void> {
    return this.refreshing;
  }

  list(): ModelEntry[] {
    return this.entries;
  }

  get(id: string): ModelEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Lists the folders and asks the engine to check each (config and weights file; nothing large is read). */
  refresh(): Promise<void> {
    const bundled = existsSync(this.bundledRoot)
      ? readdirSync(this.bundledRoot)
          .sort()
          .map((name) => join(this.bundledRoot, name))
          .filter((d) => statSync(d).isDirectory())
      : [];
    const work = Promise.all([
      ...bundled.map((dir) => this.describe(dir, "bundled")),
      ...this.userFolders().map((dir) => this.describe(dir, "folder")),
      ...HUB_MODELS.map((spec) => this.describeHub(spec)),
    ]).then((entries) => {
      this.entries = entries;
      this.changed.fire();
    });
    this.refreshing = work;
    return work;
  }

  /**
   * Adds a folder if the engine's cheap check (config.json and the safetensors header against it)
   * passes; a broken folder is not remembered and comes back with its error.
   */
  async addFolder(dir: string): Promise<ModelEntry> {
    const abs = resolve(dir);
    const checked = await this.describe(abs, "folder");
    if (checked.error) return checked;
    const folders = this.state.get<string[]>(FOLDERS_KEY, []).filter((d) => d !== abs);
    await this.state.update(FOLDERS_KEY, [...folders, abs]);
    await this.refresh();
    return this.get(`folder:${abs}`)!;
  }

  async removeFolder(dir: string): Promise<void> {
    await this.state.update(
      FOLDERS_KEY,
      this.state.get<string[]>(FOLDERS_KEY, []).filter((d) => d !== dir),
    );
    const listed = readSettings().modelFolders;
    if (listed.some((d) => resolve(d) === dir))
      await writeSetting(
        "modelFolders",
        listed.filter((d) => resolve(d) !== dir),
      );
    await this.refresh();
  }

  /** Folders added with "Add Model Folder…" (per user) plus the `headLens.modelFolders` setting. */
  private userFolders(): string[] {
    const fromSetting = readSettings().modelFolders.map((d) => resolve(d));
    return [...new Set([...this.state.get<string[]>(FOLDERS_KEY, []), ...fromSetting])];
  }

  /** A hub model: ready when a converted copy exists, else listed from its known shape. */
  private async describeHub(spec: HubModelSpec): Promise<ModelEntry> {
    const id = `hub:${spec.name}`;
    const converted = existsSync(this.convertedRoot)
      ? readdirSync(this.convertedRoot)
          .filter((d) => d.startsWith(`${spec.name}-`) && existsSync(join(this.convertedRoot, d, "model.safetensors")))
          .sort()
          .pop()
      : undefined;
    if (converted) return { ...(await this.describe(join(this.convertedRoot, converted), "hub")), id, hub: spec };
    return { id, dir: "", source: "hub", hub: spec };
  }

  private async describe(dir: string, source: ModelEntry["source"]): Promise<ModelEntry> {
    const id = source === "bundled" ? `bundled:${dir.split(/[\\/]/).pop()}` : `folder:${dir}`;
    try {
      const d = await this.engine().describe(dir);
      return d.config ? { id, dir, source, config: d.config } : { id, dir, source, error: d.error ?? "the model cannot be loaded" };
    } catch (e) {
      return { id, dir, source, error: errorMessage(e) };
    }
  }
}
