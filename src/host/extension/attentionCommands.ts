/**
 * Commands of live attention: Show Attention (palette, editor context menu, keybinding), Choose
 * Attention Head (the head whose attention the editor highlights), Choose Attention Model (the same
 * text under another model), Stop Attention Highlights, Restore Model (no ablation any more), Why Does the Head Attend Here? (palette and
 * editor context menu while highlights are on, and the highlights' hover with its query and key);
 * and the panel's restore after a window reload.
 */
import * as vscode from "vscode";
import { AttentionSession } from "../../protocol/attentionPanel";
import { RESTORE_MODEL } from "./attentionAblation";
import { AttentionController } from "./attentionController";
import { CHOOSE_ATTENTION_MODEL, WHY_ATTEND } from "./commandIds";
import { modelName } from "./modelEntry";
import { NO_EDITOR, nothingToRunIn, nothingToRunWithoutEditor, sayNothingToRun } from "./nothingToRun";
import { PAGES } from "./pages";
import { pickHead, pickRunModel, runModel } from "./pickers";
import { commandRegistrar } from "./register";
import type { Services } from "./services";
import { registerRestore } from "./webviewHost";

export function registerAttention(s: Services): AttentionController {
  const controller = new AttentionController(s.context.extensionUri, s);
  const reg = commandRegistrar(s);
  reg("headLens.showAttention", async () => {
    const editor = vscode.window.activeTextEditor;
    const nothing = editor ? nothingToRunIn(editor) : nothingToRunWithoutEditor();
    if (nothing || !editor) return sayNothingToRun(nothing ?? NO_EDITOR);
    await s.registry.ready;
    const model = await runModel(s, controller.currentModel);
    if (model) await controller.show(editor, model);
  });
  reg("headLens.chooseAttentionHead", async (ref?: { layer: number; head: number }) => {
    const model = controller.currentModel;
    if (!model) throw new Error("no attention run yet: run Head Lens: Show Attention first");
    const head = ref ?? (await pickHead(model, `highlight which head of ${modelName(model)}?`));
    if (head) await controller.chooseHead({ layer: head.layer, head: head.head });
  });
  reg(CHOOSE_ATTENTION_MODEL, async () => {
    // Nothing to run on is said before a model is asked for (when the pick would start a run).
    const editor = vscode.window.activeTextEditor;
    if (!controller.following) {
      const nothing = editor ? nothingToRunIn(editor) : nothingToRunWithoutEditor();
      if (nothing || !editor) return sayNothingToRun(nothing ?? NO_EDITOR);
    }
    const model = await pickRunModel(s, controller.currentModel);
    if (!model) return;
    if (controller.following) await controller.switchModel(model);
    else if (editor) await controller.show(editor, model);
  });
  reg("headLens.stopAttentionHighlights", () => controller.stop());
  reg(RESTORE_MODEL, () => controller.ablate([]));
  // From the hover: that head, query and key; else the cursor's token and its strongest non-BOS key.
  reg(WHY_ATTEND, async (at?: { layer: number; head: number; query: number; key: number }) => {
    const ok = at && [at.layer, at.head, at.query, at.key].every((x) => Number.isInteger(x) && x >= 0);
    if (ok) await controller.why({ layer: at.layer, head: at.head, query: at.query, key: at.key });
    else await controller.whyAtCursor();
  });
  s.context.subscriptions.push(
    controller,
    registerRestore<{ session?: AttentionSession | null }>(
      PAGES.attention,
      (panel, state) => controller.restore(panel, state?.session),
      (e) => s.reportError("restore the attention panel", e),
    ),
  );
  return controller;
}
