/** Command palette and tree commands. */
import * as vscode from "vscode";
import { headName } from "../../core/headName";
import { formatHeadReport } from "../../core/reportText";
import type { Services } from "./extension";
import { TreeNode } from "./headTree";
import { ModelEntry, modelName } from "./modelRegistry";
import { PanelHandlers } from "./panel";
import { showAndAnalyze } from "./panelHandlers";
import { registerExport } from "./exportReport";
import { registerModelCommands } from "./modelCommands";
import { PICK_HOVER_CONTEXT } from "./hoverContext";
import { ensureDownloaded } from "./hubDownloads";
import { readPanelSettings, SECTION } from "./settings";

type ModelItem = vscode.QuickPickItem & { model: ModelEntry };

export async function pickModel(s: Services): Promise<ModelEntry | undefined> {
  const usable = s.registry.list().filter((m) => m.config || m.hub);
  if (usable.length === 1) return usable[0];
  const items: ModelItem[] = s.registry.list().map((m) => ({
    label: modelName(m), model: m,
    description: m.config ? `${m.config.n_layers}L × ${m.config.n_heads}H · V ${m.config.d_vocab}` : m.hub ? `hub · not downloaded · ${m.hub.layers}L × ${m.hub.heads}H` : "broken: cannot be loaded",
    detail: m.error ?? m.dir,
  }));
  return (await vscode.window.showQuickPick(items, { title: "Head Lens: model", placeHolder: "Pick a model", matchOnDescription: true }))?.model;
}

async function pickNumber(title: string, count: number, label: (i: number) => string): Promise<number | undefined> {
  if (count === 1) return 0;
  const items = Array.from({ length: count }, (_, i) => ({ label: label(i), i }));
  return (await vscode.window.showQuickPick(items, { title, placeHolder: "Type to filter" }))?.i;
}

/** The model (and maybe layer/head) a command acts on: the tree item, or quick picks. */
async function target(s: Services, node: TreeNode | undefined, depth: "model" | "layer" | "head"): Promise<{ model: ModelEntry; layer?: number; head?: number } | undefined> {
  // From the tree the item comes as an argument; from the palette we always ask.
  const selected = node;
  let model = selected?.model ?? (await pickModel(s));
  if (!model) return undefined;
  if (model.hub && !model.config) model = await ensureDownloaded(s, model);
  if (!model) return undefined;
  if (!model.config) {
    s.reportError(`${modelName(model)} cannot be analyzed`, new Error(model.error ?? "invalid model folder"));
    return undefined;
  }
  if (depth === "model") return { model };
  const cfg = model.config;
  let layer = selected && selected.kind !== "model" ? selected.layer : undefined;
  layer ??= await pickNumber(`Head Lens: layer of ${modelName(model)}`, cfg.n_layers, (i) => `Layer ${i}`);
  if (layer === undefined) return undefined;
  if (depth === "layer") return { model, layer };
  let head = selected?.kind === "head" ? selected.head : undefined;
  head ??= await pickNumber(`Head Lens: head of layer ${layer}`, cfg.n_heads, (i) => headName(layer!, i));
  if (head === undefined) return undefined;
  return { model, layer, head };
}

export type Register = (id: string, f: (...args: never[]) => unknown) => void;

/** Registers commands so that every failure, whatever the command, is one notification. */
export function commandRegistrar(s: Services): Register {
  return (id, f) => s.context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      return await f(...args);
    } catch (e) {
      s.reportError(commandTitle(s.context, id), e);
    }
  }));
}

/** The command's title as the palette shows it ("Choose Attention Head"), for messages about it. */
function commandTitle(context: vscode.ExtensionContext, id: string): string {
  const commands = (context.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } }).contributes?.commands ?? [];
  return commands.find((c) => c.command === id)?.title.replace(/…$/, "") ?? id.replace("headLens.", "");
}

export function registerCommands(s: Services, handlers: PanelHandlers): void {
  const reg = commandRegistrar(s);
  registerExport(s, reg);
  registerModelCommands(s, handlers, reg);
  reg(PICK_HOVER_CONTEXT, () => s.hoverContext.pick());

  reg("headLens.analyzeHead", async (node?: TreeNode) => {
    const t = await target(s, node, "head");
    if (t) await showAndAnalyze(s, handlers, t.model, [{ layer: t.layer!, head: t.head! }]);
  });
  reg("headLens.analyzeLayer", async (node?: TreeNode) => {
    const t = await target(s, node, "layer");
    if (t) await showAndAnalyze(s, handlers, t.model, Array.from({ length: t.model.config!.n_heads }, (_, head) => ({ layer: t.layer!, head })));
  });
  reg("headLens.analyzeModel", async (node?: TreeNode) => {
    const t = await target(s, node, "model");
    if (!t) return;
    const c = t.model.config!;
    await showAndAnalyze(s, handlers, t.model, Array.from({ length: c.n_layers * c.n_heads }, (_, i) => ({ layer: Math.floor(i / c.n_heads), head: i % c.n_heads })));
  });
  reg("headLens.cancelAnalysis", () => s.analysis.cancelAll());
  reg("headLens.showOutput", () => s.log.show(true));
  reg("headLens.refreshModels", () => s.registry.refresh());

  reg("headLens.copyReport", async (node?: TreeNode) => {
    const t = await target(s, node, "head");
    if (!t) return;
    const [shown] = await s.analysis.analyze(t.model, [{ layer: t.layer!, head: t.head! }], readPanelSettings());
    await vscode.env.clipboard.writeText(formatHeadReport(shown.report));
    void vscode.window.setStatusBarMessage(`Head Lens: report of ${headName(t.layer!, t.head!)} copied`, 3000);
  });

  reg("headLens.setPriors", async () => {
    const pick = await vscode.window.showQuickPick([
      { label: "bundled", description: "unigram counts of the model's (or Head Lens's) corpus" },
      { label: "uniform", description: "every token equally likely" },
      { label: "words.txt…", description: "a file of text lines, counted as the notebook does" },
    ], { title: "Head Lens: token prior" });
    if (!pick) return;
    let value = pick.label;
    if (value === "words.txt…") {
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: "Use as token prior", filters: { Text: ["txt"], "All files": ["*"] } });
      if (!files?.length) return;
      value = files[0].fsPath;
    }
    // Open panels follow through the configuration listener: they re-run their heads under this prior.
    await vscode.workspace.getConfiguration(SECTION).update("priors", value, vscode.ConfigurationTarget.Global);
  });

  reg("headLens.removeModelFolder", async (node?: TreeNode) => {
    if (node?.model.source === "folder") await s.registry.removeFolder(node.model.dir);
  });
}
