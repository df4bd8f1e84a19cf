/**
 * The commands and wiring of the model overview and of the "which heads use this token" table
 * (the tree's badges are in headTree.ts / badges.ts, the paths in the heads panel).
 */
import * as vscode from "vscode";
import { iconText, notificationText } from "../../core/markdownText";
import { cutToken } from "../../core/tokenDisplay";
import type { TreeNode } from "./headTree";
import { MODEL_OVERVIEW, WHICH_HEADS } from "./commandIds";
import { LoadableModel, modelName } from "./modelEntry";
import { OverviewPanel } from "./overviewPanel";
import { PAGES } from "./pages";
import { restoredModel, usableModel } from "./pickers";
import { commandRegistrar } from "./register";
import type { Services } from "./services";
import { affects, readSettings } from "./settings";
import { TokenPanel } from "./tokenPanel";
import { registerRestore } from "./webviewHost";

/** The hover's link argument: a token of a model, by id. */
export interface WhichHeadsArg {
  model: string;
  id: number;
  token?: string;
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
async function pickToken(s: Services, model: LoadableModel): Promise<{ id: number; token: string } | undefined> {
  const prior = readSettings().report.prior;
  const tokenize = (text: string) => s.engine().hover({ modelDir: model.dir, priors: prior, text, maxTokens: 16, n: 0 });
  const word = wordAtCursor();
  if (word) {
    const r = await tokenize(word);
    const items: (vscode.QuickPickItem & { t?: { id: number; token: string } })[] = r.tokens.map((t) => ({
      label: iconText(t.token), // "$(zap)" is a token here, not an icon
      description: `id ${t.id} · prior ${t.p.toExponential(2)}`,
      t: { id: t.id, token: t.token },
    }));
    items.push({ label: "Type a token…", description: "text that is one token of the model" });
    const pick = await vscode.window.showQuickPick(items, {
      title: `Head Lens: which heads use… (tokens of “${word}” under ${modelName(model)})`,
      placeHolder: "Pick a token of the word under the cursor, or type one",
    });
    if (!pick) return undefined;
    if (pick.t) return pick.t;
  }
  let found: { id: number; token: string } | undefined;
  const text = await vscode.window.showInputBox({
    title: `Head Lens: which heads use… (${modelName(model)})`,
    prompt: 'One token of the model\'s vocabulary; mind the leading space: " the" and "the" are different tokens',
    value: word ?? " the",
    validateInput: async (v) => {
      if (!v) return "Type a token";
      const r = await tokenize(v);
      if (r.tokens.length === 1) {
        found = { id: r.tokens[0].id, token: r.tokens[0].token };
        return undefined;
      }
      found = undefined;
      if (!r.tokens.length) return "No token";
      // The input box's message shows links and icons: the typed text and the tokens are data.
      const tokens = r.tokens.map((t) => cutToken(t.token)).join(" ");
      return notificationText(iconText(`“${cutToken(v)}” is ${r.tokens.length} tokens (${tokens}): type one`));
    },
  });
  if (text === undefined) return undefined;
  if (found) return found;
  const r = await tokenize(text);
  return r.tokens.length === 1 ? { id: r.tokens[0].id, token: r.tokens[0].token } : undefined;
}

export function registerCircuitCommands(s: Services): void {
  const reg = commandRegistrar(s);

  reg(MODEL_OVERVIEW, async (node?: TreeNode) => {
    const model = await usableModel(s, node?.model);
    if (model) OverviewPanel.show(s, model);
  });

  // From the hover (a model id and a token id), the tree (a model) or the palette (pick both).
  reg(WHICH_HEADS, async (arg?: WhichHeadsArg | TreeNode) => {
    const fromHover = arg && "id" in arg && typeof arg.model === "string" ? arg : undefined;
    const node = arg && "kind" in arg ? arg : undefined;
    await s.registry.ready;
    const model = await usableModel(s, fromHover ? s.registry.get(fromHover.model) : node?.model);
    if (!model) return;
    // The hover tokenized it already (and names it in the link).
    const token = fromHover ? { id: fromHover.id, token: fromHover.token ?? `<id ${fromHover.id}>` } : await pickToken(s, model);
    if (token) await TokenPanel.show(s).run(model, token);
  });

  s.context.subscriptions.push(
    registerRestore<{ model?: { id: string } }>(
      PAGES.overview,
      async (panel, state) => {
        const model = await restoredModel(s, panel, state?.model?.id);
        if (model) OverviewPanel.restore(s, panel, model);
      },
      (e) => s.reportError("restore the model overview", e),
    ),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, "priors")) TokenPanel.open()?.rerunIfPriorChanged();
    }),
  );
}
