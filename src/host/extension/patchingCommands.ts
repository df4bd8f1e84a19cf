/**
 * Head Lens: Compare with a Corrupted Copy… (palette and editor context menu): activation patching
 * between the selection and an edited copy of it (patchingController.ts). A patching page left open at
 * a window reload is closed: its corrupted copy is an untitled editor the reload does not pair again.
 */
import * as vscode from "vscode";
import type { AttentionController } from "./attentionController";
import { NO_EDITOR, nothingToRunIn, nothingToRunWithoutEditor, sayNothingToRun } from "./nothingToRun";
import { PAGES } from "./pages";
import { PatchingController } from "./patchingController";
import { runModel } from "./pickers";
import { commandRegistrar } from "./register";
import type { Services } from "./services";
import { registerRestore } from "./webviewHost";

export const COMPARE_CORRUPTED = "headLens.compareCorrupted";

export function registerPatching(s: Services, attention: AttentionController): void {
  const controller = new PatchingController(s.context.extensionUri, s);
  commandRegistrar(s)(COMPARE_CORRUPTED, async () => {
    const editor = vscode.window.activeTextEditor;
    const nothing = editor ? nothingToRunIn(editor) : nothingToRunWithoutEditor();
    if (nothing || !editor) return sayNothingToRun(nothing ?? NO_EDITOR);
    await s.registry.ready;
    const model = await runModel(s, attention.currentModel);
    if (model) await controller.start(editor, model);
  });
  s.context.subscriptions.push(
    controller,
    registerRestore(
      PAGES.patching,
      (panel) => panel.dispose(),
      (e) => s.reportError("restore the patching page", e),
    ),
  );
}
