/**
 * The buttons of the "See an induction circuit" walkthrough (package.json contributes.walkthroughs,
 * VS Code's own onboarding): each does one step on the bundled demo-attn-2l. The general commands act
 * on a tree item or ask with quick picks; a walkthrough's command link passes only JSON, so these
 * small commands name the demo's model, heads, path and sample text themselves.
 */
import * as vscode from "vscode";
import { headName, HeadRef } from "../../core/heads";
import type { AttentionController } from "./attentionController";
import { isLoadable, LoadableModel } from "./modelEntry";
import { OverviewPanel } from "./overviewPanel";
import { commandRegistrar } from "./register";
import type { Services } from "./services";

/** The step commands; each step ticks when its command runs (completionEvents onCommand:…). */
export const TOUR = {
  badges: "headLens.tour.badges",
  overview: "headLens.tour.overview",
  path: "headLens.tour.path",
  attention: "headLens.tour.attention",
  why: "headLens.tour.why",
  whatIf: "headLens.tour.whatIf",
} as const;

const DEMO_ID = "bundled:demo-attn-2l";
/** demo-attn-2l's textbook pair (models/demo-attn-2l/MODEL_CARD.md): a previous-token head feeding an induction head's keys. */
const INDUCTION: HeadRef = { layer: 1, head: 0 };
const PREV_TOKEN: HeadRef = { layer: 0, head: 3 };
/** A text with a repeated passage, shipped in the extension (media/ goes into the .vsix). */
const SAMPLE = ["media", "samples", "induction.txt"];

async function demoModel(s: Services): Promise<LoadableModel> {
  await s.registry.ready;
  const m = s.registry.get(DEMO_ID);
  if (!isLoadable(m))
    throw new Error(
      `the bundled demo-attn-2l is ${m ? `broken (${m.error ?? "cannot be loaded"})` : "not listed"}; run Head Lens: Refresh Models`,
    );
  return m;
}

/** The sample, copied into the extension's storage: an edit must not change the installed extension
 * (nor the next tour). A copy the user is editing is left as it is. */
async function sampleCopy(context: vscode.ExtensionContext): Promise<vscode.Uri> {
  const copy = vscode.Uri.joinPath(context.globalStorageUri, SAMPLE[SAMPLE.length - 1]);
  if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === copy.toString() && d.isDirty)) return copy;
  await vscode.workspace.fs.createDirectory(context.globalStorageUri);
  await vscode.workspace.fs.writeFile(copy, await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, ...SAMPLE)));
  return copy;
}

export function registerWalkthrough(s: Services, attention: AttentionController): void {
  const reg = commandRegistrar(s);

  // Revealing a head expands its model (which computes the badges) and its layer.
  reg(TOUR.badges, async () => {
    const model = await demoModel(s);
    for (const h of [PREV_TOKEN, INDUCTION])
      await s.treeView.reveal({ kind: "head", model, ...h }, { expand: true, select: h === INDUCTION, focus: false });
  });

  reg(TOUR.overview, async () => OverviewPanel.show(s, await demoModel(s)));

  // The overview's strongest K-composition, opened as the path its cell opens.
  reg(TOUR.path, async () => s.heads.show(await demoModel(s), [INDUCTION], { ...PREV_TOKEN, type: "k" }));

  // The whole sample selected, so Show Attention runs on both copies; then the induction head enlarged.
  const attentionOnSample = async (): Promise<vscode.TextEditor> => {
    const model = await demoModel(s);
    const doc = await vscode.workspace.openTextDocument(await sampleCopy(s.context));
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(doc.getText().length));
    await attention.show(editor, model);
    await attention.chooseHead(INDUCTION);
    return editor;
  };
  reg(TOUR.attention, async () => {
    await attentionOnSample();
    void vscode.window.setStatusBarMessage(`Head Lens: ${headName(INDUCTION.layer, INDUCTION.head)} on a repeated passage`, 5000);
  });

  // The Why of the repeated line's " wrote" (second copy) with its strongest key: the editor's own command, from the cursor.
  reg(TOUR.why, async () => {
    const editor = await attentionOnSample();
    const at = editor.document.positionAt(editor.document.getText().lastIndexOf(" wrote") + 2);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at));
    await attention.whyAtCursor();
  });

  // L0H3 zero-ablated on the sample: L1H0's stripe goes, the run shown against the model as it is.
  reg(TOUR.whatIf, async () => {
    await attentionOnSample();
    await attention.ablate([{ ...PREV_TOKEN, kind: "zero" }]);
  });
}
