/** Command palette and tree commands: analyze, copy, priors, models (exports and model files have their own modules). */
import * as vscode from "vscode";
import { allHeads, headName } from "../../core/heads";
import { formatHeadReport } from "../../core/reportText";
import { ANALYZE_HEAD, PICK_HOVER_CONTEXT } from "./commandIds";
import { registerExport } from "./exportReport";
import type { TreeNode } from "./headTree";
import { registerHubCommands } from "./hubDownloads";
import { registerModelCommands } from "./modelCommands";
import { targetHead, targetLayer, usableModel } from "./pickers";
import { commandRegistrar } from "./register";
import type { Services } from "./services";
import { readSettings, writeSetting } from "./settings";

export function registerCommands(s: Services): void {
  const reg = commandRegistrar(s);
  registerExport(s, reg);
  registerModelCommands(s, reg);
  registerHubCommands(s, reg);
  reg(PICK_HOVER_CONTEXT, () => s.hoverContext.pick());

  reg(ANALYZE_HEAD, async (node?: TreeNode) => {
    const t = await targetHead(s, node);
    if (t) await s.heads.show(t.model, [t.head]);
  });
  reg("headLens.analyzeLayer", async (node?: TreeNode) => {
    const t = await targetLayer(s, node);
    if (t) await s.heads.show(t.model, allHeads(t.layer + 1, t.model.config.n_heads, t.layer));
  });
  reg("headLens.analyzeModel", async (node?: TreeNode) => {
    const model = await usableModel(s, node?.model);
    if (model) await s.heads.show(model, allHeads(model.config.n_layers, model.config.n_heads));
  });
  reg("headLens.cancelAnalysis", () => s.analysis.cancelAll());
  reg("headLens.showOutput", () => s.log.show(true));
  reg("headLens.refreshModels", () => s.registry.refresh());

  reg("headLens.copyReport", async (node?: TreeNode) => {
    const t = await targetHead(s, node);
    if (!t) return;
    const [shown] = await s.analysis.analyze(t.model, [t.head], readSettings().report);
    await vscode.env.clipboard.writeText(formatHeadReport(shown.report));
    void vscode.window.setStatusBarMessage(`Head Lens: report of ${headName(t.head.layer, t.head.head)} copied`, 3000);
  });

  reg("headLens.setPriors", async () => {
    const pick = await vscode.window.showQuickPick(
      [
        { label: "bundled", description: "unigram counts of the model's (or Head Lens's) corpus" },
        { label: "uniform", description: "every token equally likely" },
        { label: "words.txt…", description: "a file of text lines, counted as the notebook does" },
      ],
      { title: "Head Lens: token prior" },
    );
    if (!pick) return;
    let value = pick.label;
    if (value === "words.txt…") {
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: "Use as token prior",
        filters: { Text: ["txt"], "All files": ["*"] },
      });
      if (!files?.length) return;
      value = files[0].fsPath;
    }
    // Open panels follow through the configuration listener: they re-run their heads under this prior.
    await writeSetting("priors", value);
  });

  reg("headLens.removeModelFolder", async (node?: TreeNode) => {
    if (node?.model.source === "folder") await s.registry.removeFolder(node.model.dir);
  });
}
