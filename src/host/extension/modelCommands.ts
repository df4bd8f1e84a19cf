/**
 * Add Model Folder… and Open Model File…: a model is checked by the engine before it is listed
 * (config.json and the safetensors header against it, no weights read). A broken one gives one
 * error message with the reason and is not added; a good one is listed and, when opened, analyzed
 * into its panel (the panel is the confirmation: no "opened" message that a failure could follow).
 */
import * as vscode from "vscode";
import { basename, dirname } from "node:path";
import { notificationText } from "../../core/markdownText";
import { prepareLocalPth } from "../hub/prepareHubModel";
import { isLoadable, modelName } from "./modelEntry";
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
    const entry = await s.registry.addFolder(folder);
    if (entry.error) {
      s.reportError(`${basename(folder)} was not added`, new Error(entry.error));
      return;
    }
    const c = entry.config!;
    s.log.info(`added model folder ${entry.dir} (${modelName(entry)}: ${c.n_layers} layers × ${c.n_heads} heads, V ${c.d_vocab})`);
    void s.treeView.reveal({ kind: "model", model: entry }, { select: true, focus: false, expand: true }).then(undefined, () => undefined);
    void vscode.window.setStatusBarMessage(`Head Lens: added ${modelName(entry)} (${c.n_layers} layers × ${c.n_heads} heads)`, 5000);
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
