/**
 * Add Model Folder… and Open Model File…: a model is checked by the engine before it is listed
 * (config.json and the safetensors header against it, no weights read). A broken one gives one
 * error message with the reason and is not added; a good one is listed and, when opened, analyzed
 * into its panel (the panel is the confirmation: no "opened" message that a failure could follow).
 * Add Model Folder says what it added and where it is listed (or that it was listed already), with
 * the next step as a button.
 */
import * as vscode from "vscode";
import { basename, dirname, resolve } from "node:path";
import { oneLine } from "../../core/errors";
import { notificationText } from "../../core/markdownText";
import { prepareLocalPth } from "../hub/prepareHubModel";
import { isLoadable, LoadableModel, modelName } from "./modelEntry";
import type { Register } from "./register";
import type { Services } from "./services";

export function registerModelCommands(s: Services, reg: Register): void {
  reg("headLens.addModelFolder", async (dir?: string) => {
    let folder = typeof dir === "string" ? dir : undefined;
    if (!folder) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: "Add Model Folder",
        title: "A folder with config.json and model.safetensors",
      });
      folder = picked?.[0]?.fsPath;
    }
    if (!folder) return;
    await s.registry.ready;
    const find = () => s.registry.list().find((e) => e.dir && resolve(e.dir) === resolve(folder));
    if (find()) {
      await s.registry.refresh(); // checked again from disk, as adding it again did
      const listed = find();
      if (isLoadable(listed))
        return offerNextStep(s, listed, `${shown(listed)} is already listed in the Head Lens view's models (${oneLine(folder)}).`);
    }
    const entry = await s.registry.addFolder(folder);
    if (!isLoadable(entry)) {
      s.reportError(`${basename(folder)} was not added`, new Error(entry.error ?? "the model cannot be loaded"));
      return;
    }
    const c = entry.config;
    s.log.info(`added model folder ${entry.dir} (${modelName(entry)}: ${c.n_layers} layers × ${c.n_heads} heads, V ${c.d_vocab})`);
    await offerNextStep(s, entry, `Added ${shown(entry)} to the Head Lens view's models, from ${oneLine(folder)}.`);
  });

  reg("headLens.openModelFile", async () => {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: "Open Model",
      title: "A TransformerLens .pth or .safetensors (with config.json beside it)",
      filters: { "TransformerLens weights": ["pth", "safetensors"] },
    });
    const file = picked?.[0]?.fsPath;
    if (!file) return;
    if (!file.endsWith(".pth") && basename(file) !== "model.safetensors") {
      throw new Error(`${file}: a safetensors model must be named model.safetensors, with config.json in the same folder`);
    }
    const folder = file.endsWith(".pth")
      ? await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: notificationText(`Head Lens: converting ${basename(file)}`) },
          () => prepareLocalPth(file, s.context.globalStorageUri.fsPath),
        )
      : dirname(file);
    const entry = await s.registry.addFolder(folder);
    if (!isLoadable(entry)) {
      s.reportError(`${basename(file)} cannot be opened`, new Error(entry.error ?? "the model cannot be loaded"));
      return;
    }
    s.log.info(`opened ${file} as ${modelName(entry)} (${entry.dir})`);
    await s.heads.show(entry, [{ layer: 0, head: 0 }]);
  });
}

/** "demo (2 layers × 4 heads)", one line: the name comes from the model's config.json. */
function shown(m: LoadableModel): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${oneLine(modelName(m))} (${plural(m.config.n_layers, "layer")} × ${plural(m.config.n_heads, "head")})`;
}

/** Shows the model in the tree and says `message`, with Analyze (its first head in the heads panel) as the next step. */
async function offerNextStep(s: Services, model: LoadableModel, message: string): Promise<void> {
  void s.treeView.reveal({ kind: "model", model }, { select: true, focus: false, expand: true }).then(undefined, () => undefined);
  const pick = await vscode.window.showInformationMessage(notificationText(`Head Lens: ${message}`), "Analyze", "Show in Tree");
  if (pick === "Analyze") await s.heads.show(model, [{ layer: 0, head: 0 }]);
  else if (pick === "Show in Tree") await s.treeView.reveal({ kind: "model", model }, { select: true, focus: true, expand: true });
}
