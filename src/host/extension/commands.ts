/** Command palette and tree commands. */
import * as vscode from "vscode";
import { writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { prepareLocalPth } from "../hub/prepareHubModel";
import { HeadReport, ModelReport } from "../../core/report";
import { headReportMarkdown, headReportsCsv } from "../../core/reportExport";
import { formatHeadReport } from "../../core/reportText";
import type { Services } from "./extension";
import { TreeNode } from "./headTree";
import { ModelEntry, modelName } from "./modelRegistry";
import { HeadLensPanel, PanelHandlers } from "./panel";
import { showAndAnalyze } from "./panelHandlers";
import { ensureDownloaded } from "./hubDownloads";
import { readPanelSettings, SECTION } from "./settings";

type ModelItem = vscode.QuickPickItem & { model: ModelEntry };

async function pickModel(s: Services): Promise<ModelEntry | undefined> {
  const usable = s.registry.list().filter((m) => m.config || m.hub);
  if (usable.length === 1) return usable[0];
  const items: ModelItem[] = s.registry.list().map((m) => ({
    label: modelName(m), model: m,
    description: m.config ? `${m.config.n_layers}L × ${m.config.n_heads}H · V ${m.config.d_vocab}` : m.hub ? `hub · not downloaded · ${m.hub.layers}L × ${m.hub.heads}H` : "cannot be loaded",
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
  head ??= await pickNumber(`Head Lens: head of layer ${layer}`, cfg.n_heads, (i) => `L${layer}H${i}`);
  if (head === undefined) return undefined;
  return { model, layer, head };
}

export function registerCommands(s: Services, handlers: PanelHandlers): void {
  const reg = (id: string, f: (...args: never[]) => unknown) => s.context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      return await f(...args);
    } catch (e) {
      s.reportError(id.replace("headLens.", ""), e);
    }
  }));

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
    void vscode.window.setStatusBarMessage(`Head Lens: report of head ${t.layer}:${t.head} copied`, 3000);
  });

  reg("headLens.exportReport", async (node?: TreeNode) => {
    const model = node?.model ?? HeadLensPanel.active()?.model ?? (await pickModel(s));
    if (!model?.config) return;
    const settings = readPanelSettings();
    const c = model.config;
    const all = Array.from({ length: c.n_layers * c.n_heads }, (_, i) => ({ layer: Math.floor(i / c.n_heads), head: i % c.n_heads }));
    const panelHeads = HeadLensPanel.forModel(model.id)?.shown() ?? [];
    const scope = await vscode.window.showQuickPick(
      [
        ...(panelHeads.length ? [{ label: `Heads shown in the panel (${panelHeads.length})`, heads: panelHeads }] : []),
        { label: `Every head of ${modelName(model)} (${all.length})`, heads: all, description: "analyzes what is not cached yet" },
      ],
      { title: "Head Lens: export which heads?" },
    );
    if (!scope) return;
    const format = await vscode.window.showQuickPick([
      { label: "Markdown", ext: "md" }, { label: "JSON", ext: "json", description: "identical to the CLI's --json" }, { label: "CSV", ext: "csv" },
    ], { title: "Head Lens: export format" });
    if (!format) return;
    const uri = await vscode.window.showSaveDialog({ filters: { [format.label]: [format.ext] }, defaultUri: vscode.Uri.file(`${modelName(model)}-heads.${format.ext}`), title: "Export Head Lens report" });
    if (!uri) return;
    const reports: HeadReport[] = (await s.analysis.analyze(model, scope.heads, settings)).map((h) => h.report);
    let text: string;
    if (format.ext === "json") {
      const body: HeadReport | ModelReport = reports.length === 1 ? reports[0] : { model: reports[0].model, ep: reports[0].ep, heads: reports };
      text = JSON.stringify(body) + "\n";
    } else if (format.ext === "csv") text = headReportsCsv(reports);
    else text = `# Head Lens report: ${modelName(model)}\n\n` + reports.map(headReportMarkdown).join("\n");
    writeFileSync(uri.fsPath, text);
    void vscode.window.showInformationMessage(`Head Lens: exported ${reports.length} head${reports.length === 1 ? "" : "s"} to ${uri.fsPath}`);
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

  reg("headLens.addModelFolder", async (dir?: string) => {
    let folder = typeof dir === "string" ? dir : undefined;
    if (!folder) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: "Add Model Folder", title: "A folder with config.json and model.safetensors" });
      folder = picked?.[0]?.fsPath;
    }
    if (!folder) return;
    const entry = await s.registry.addFolder(folder);
    if (entry.error) s.reportError(`the model folder ${folder} cannot be used`, new Error(entry.error));
    else void vscode.window.showInformationMessage(`Head Lens: added ${modelName(entry)}`);
  });
  reg("headLens.openModelFile", async () => {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false, openLabel: "Open Model", title: "A TransformerLens .pth or .safetensors (with config.json beside it)",
      filters: { "TransformerLens weights": ["pth", "safetensors"] },
    });
    const file = picked?.[0]?.fsPath;
    if (!file) return;
    let folder = dirname(file);
    if (file.endsWith(".pth")) {
      folder = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Head Lens: converting ${basename(file)}` },
        () => prepareLocalPth(file, s.context.globalStorageUri.fsPath));
    } else if (basename(file) !== "model.safetensors") {
      throw new Error(`${file}: a safetensors model must be named model.safetensors, with config.json in the same folder`);
    }
    const entry = await s.registry.addFolder(folder);
    if (entry.error) s.reportError(`${file} cannot be used`, new Error(entry.error));
    else {
      void vscode.window.showInformationMessage(`Head Lens: opened ${modelName(entry)}`);
      await showAndAnalyze(s, handlers, entry, [{ layer: 0, head: 0 }]);
    }
  });

  reg("headLens.removeModelFolder", async (node?: TreeNode) => {
    if (node?.model.source === "folder") await s.registry.removeFolder(node.model.dir);
  });
}
