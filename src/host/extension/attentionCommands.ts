/**
 * Commands of live attention: Show Attention (palette, editor context menu, keybinding), Choose
 * Attention Head (the head whose attention the editor highlights), Choose Attention Model (the same
 * text under another model), Stop Attention Highlights; and
 * the panel's restore after a window reload.
 */
import * as vscode from "vscode";
import { headName } from "../../core/headName";
import type { Services } from "./extension";
import { AttentionSession } from "../../protocol/attention";
import { AttentionController } from "./attentionController";
import { ATTENTION_VIEW_TYPE } from "./attentionPanel";
import { commandRegistrar } from "./commands";
import { ModelEntry, modelName } from "./modelRegistry";
import { HeadLensPanel } from "./panel";

const NO_EDITOR = "no text editor is active: open a file, select some text (or put the cursor in it) and run Show Attention again";

/** The model attention runs: the attention panel's, else the heads panel's, else the user's pick. */
async function activeModel(s: Services, controller: AttentionController): Promise<ModelEntry | undefined> {
  const usable = s.registry.list().filter((m) => m.config);
  const current = controller.currentModel ?? HeadLensPanel.active()?.model;
  if (current?.config && usable.some((m) => m.id === current.id)) return current;
  if (usable.length === 1) return usable[0];
  return pickModel(s);
}

/** A pick of the models that can run, the attention panel's first and marked. */
async function pickModel(s: Services, current?: ModelEntry): Promise<ModelEntry | undefined> {
  const usable = s.registry.list().filter((m) => m.config).sort((a, b) => Number(b.id === current?.id) - Number(a.id === current?.id));
  if (!usable.length) throw new Error("no model is ready: add a model folder or download a hub model first");
  const items = usable.map((m) => ({
    label: modelName(m), model: m, detail: m.dir,
    description: `${m.id === current?.id ? "in the attention panel · " : ""}${m.config!.n_layers}L × ${m.config!.n_heads}H · n_ctx ${m.config!.n_ctx}`,
  }));
  return (await vscode.window.showQuickPick(items, { title: "Head Lens: run which model on the text?", placeHolder: "Pick a model" }))?.model;
}

export function registerAttention(s: Services): AttentionController {
  const controller = new AttentionController(s.context.extensionUri, s);
  const reg = commandRegistrar(s);
  reg("headLens.showAttention", async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw new Error(NO_EDITOR);
    await s.registry.ready;
    const model = await activeModel(s, controller);
    if (model) await controller.show(editor, model);
  });
  reg("headLens.chooseAttentionHead", async (ref?: { layer: number; head: number }) => {
    const model = controller.currentModel;
    if (!model?.config) throw new Error("no attention run yet: run Head Lens: Show Attention first");
    let head = ref;
    if (!head) {
      const c = model.config;
      const items = Array.from({ length: c.n_layers * c.n_heads }, (_, i) => ({ label: headName(Math.floor(i / c.n_heads), i % c.n_heads), layer: Math.floor(i / c.n_heads), head: i % c.n_heads }));
      head = await vscode.window.showQuickPick(items, { title: `Head Lens: highlight which head of ${modelName(model)}?`, placeHolder: "Type to filter, e.g. L1H0" });
    }
    if (head) await controller.chooseHead({ layer: head.layer, head: head.head });
  });
  reg("headLens.chooseAttentionModel", async () => {
    await s.registry.ready;
    const model = await pickModel(s, controller.currentModel);
    if (!model) return;
    if (controller.following) await controller.switchModel(model);
    else {
      const editor = vscode.window.activeTextEditor;
      if (!editor) throw new Error(NO_EDITOR);
      await controller.show(editor, model);
    }
  });
  reg("headLens.stopAttentionHighlights", () => controller.stop());
  s.context.subscriptions.push(
    controller,
    vscode.window.registerWebviewPanelSerializer(ATTENTION_VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: { session?: AttentionSession | null } | undefined) => controller.restore(panel, state?.session),
    }),
  );
  return controller;
}
