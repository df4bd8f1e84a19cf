/**
 * Issue #12 in VS Code: the commands and wiring of the model overview and of the "which heads use
 * this token" table (the tree's badges are in headTree.ts / badges.ts, the paths in the heads panel).
 */
import * as vscode from "vscode";
import { parsePriorSpec } from "../../core/priorSpec";
import type { Services } from "./extension";
import { commandRegistrar, pickModel } from "./commands";
import { TreeNode } from "./headTree";
import { WHICH_HEADS } from "./hoverContext";
import { ensureDownloaded } from "./hubDownloads";
import { ModelEntry, modelName } from "./modelRegistry";
import { OVERVIEW_VIEW_TYPE, OverviewPanel } from "./overviewPanel";
import { PanelHandlers } from "./panel";
import { readPanelSettings, SECTION } from "./settings";
import { TokenPanel } from "./tokenPanel";

export const MODEL_OVERVIEW = "headLens.modelOverview";

/** The hover's link argument: a token of a model, by id. */
export interface WhichHeadsArg {
  model: string;
  id: number;
  token?: string;
}

/** The model a command acts on: the tree item's, the hover's, or a quick pick; downloaded and loadable. */
async function usableModel(s: Services, model: ModelEntry | undefined): Promise<ModelEntry | undefined> {
  let m = model ?? (await pickModel(s));
  if (m?.hub && !m.config) m = await ensureDownloaded(s, m);
  if (!m) return undefined;
  if (!m.config) {
    s.reportError(`${modelName(m)} cannot be analyzed`, new Error(m.error ?? "invalid model folder"));
    return undefined;
  }
  return m;
}

/** The word under the editor's cursor as the model sees it (a leading space kept, as the hover does). */
function wordAtCursor(): string | undefined {
  const ed = vscode.window.activeTextEditor;
  if (!ed) return undefined;
  const range = ed.document.getWordRangeAtPosition(ed.selection.active);
  if (!range) return undefined;
  const before = range.start.character > 0 ? ed.document.getText(new vscode.Range(range.start.translate(0, -1), range.start)) : "";
  const word = ed.document.getText(range);
  return before === " " ? ` ${word}` : word;
}

/** Asks for one token: one of the tokens of the word under the cursor, or typed text that must be one token. */
async function pickToken(s: Services, model: ModelEntry): Promise<{ id: number; token: string } | undefined> {
  const tokenize = (text: string) => s.engine().hover({ modelDir: model.dir, priors: parsePriorSpec(readPanelSettings().priors), text, maxTokens: 16, n: 0 });
  const word = wordAtCursor();
  if (word) {
    const r = await tokenize(word);
    const items: (vscode.QuickPickItem & { t?: { id: number; token: string } })[] = r.tokens.map((t) => ({ label: t.token, description: `id ${t.id} · prior ${t.p.toExponential(2)}`, t: { id: t.id, token: t.token } }));
    items.push({ label: "Type a token…", description: "text that is one token of the model" });
    const pick = await vscode.window.showQuickPick(items, { title: `Head Lens: which heads use… (tokens of “${word}” under ${modelName(model)})`, placeHolder: "Pick a token of the word under the cursor, or type one" });
    if (!pick) return undefined;
    if (pick.t) return pick.t;
  }
  let found: { id: number; token: string } | undefined;
  const text = await vscode.window.showInputBox({
    title: `Head Lens: which heads use… (${modelName(model)})`,
    prompt: "One token of the model's vocabulary; mind the leading space: \" the\" and \"the\" are different tokens",
    value: word ?? " the",
    validateInput: async (v) => {
      if (!v) return "Type a token";
      const r = await tokenize(v);
      if (r.tokens.length === 1) {
        found = { id: r.tokens[0].id, token: r.tokens[0].token };
        return undefined;
      }
      found = undefined;
      return r.tokens.length ? `“${v}” is ${r.tokens.length} tokens (${r.tokens.map((t) => t.token).join(" ")}): type one` : "No token";
    },
  });
  if (text === undefined) return undefined;
  if (found) return found;
  const r = await tokenize(text);
  return r.tokens.length === 1 ? { id: r.tokens[0].id, token: r.tokens[0].token } : undefined;
}

export function registerCircuitViews(s: Services, handlers: PanelHandlers): void {
  const reg = commandRegistrar(s);

  reg(MODEL_OVERVIEW, async (node?: TreeNode) => {
    const model = await usableModel(s, node?.model);
    if (model) OverviewPanel.show(s, handlers, model);
  });

  // From the hover (a model id and a token id), the tree (a model) or the palette (pick both).
  reg(WHICH_HEADS, async (arg?: WhichHeadsArg | TreeNode) => {
    const fromHover = arg && "id" in arg && typeof arg.model === "string" ? arg : undefined;
    const node = arg && "kind" in arg ? arg : undefined;
    await s.registry.ready;
    const model = await usableModel(s, fromHover ? s.registry.get(fromHover.model) : node?.model);
    if (!model) return;
    let token: { id: number; token: string } | undefined;
    // The hover tokenized it already (and names it in the link).
    if (fromHover) token = { id: fromHover.id, token: fromHover.token ?? `<id ${fromHover.id}>` };
    else token = await pickToken(s, model);
    if (!token) return;
    await TokenPanel.show(s, handlers).run(model, token);
  });

  s.context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(OVERVIEW_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: { model?: { id: string } } | undefined) {
        await s.registry.ready;
        const model = state?.model && s.registry.get(state.model.id);
        if (!model?.config) {
          panel.dispose();
          return;
        }
        OverviewPanel.restore(s, handlers, panel, model);
      },
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.priors`)) TokenPanel.open()?.rerunIfPriorChanged();
    }),
  );
}
