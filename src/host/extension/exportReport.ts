/**
 * Export Report…: Markdown, JSON (the CLI's --json) or CSV of the panel's heads or every head.
 * It has no side effects on the panel (heads analyzed for an export never land in it), saves to
 * the workspace folder by default, and offers to open what it wrote.
 */
import * as vscode from "vscode";
import { writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { HeadReport, ModelReport } from "../../core/report";
import { headReportMarkdown, headReportsCsv } from "../../core/reportExport";
import { allHeads } from "../../core/heads";
import { iconText, notificationText } from "../../core/markdownText";
import type { TreeNode } from "./headTree";
import { modelName } from "./modelEntry";
import { pickModel } from "./pickers";
import type { Register } from "./register";
import type { Services } from "./services";
import { readSettings } from "./settings";

/** Where the save dialog starts: the first workspace folder, else the home folder (never the root). */
export function defaultExportUri(fileName: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(homedir());
  return vscode.Uri.joinPath(folder, fileName);
}

export function registerExport(s: Services, reg: Register): void {
  reg("headLens.exportReport", async (node?: TreeNode) => {
    const model = node?.model ?? s.heads.activeModel() ?? (await pickModel(s, { title: "export which model?" }));
    if (!model) return;
    if (!model.config) throw new Error(`${modelName(model)} cannot be exported: ${model.error ?? "it is not downloaded yet"}`);
    const settings = readSettings().report;
    const all = allHeads(model.config.n_layers, model.config.n_heads);
    const panelHeads = s.heads.shownHeads(model.id);
    const scope = await vscode.window.showQuickPick(
      [
        ...(panelHeads.length ? [{ label: `Heads shown in the panel (${panelHeads.length})`, heads: panelHeads }] : []),
        {
          label: `Every head of ${iconText(modelName(model))} (${all.length})`,
          heads: all,
          description: "analyzes what is not cached yet; the panel is left as it is",
        },
      ],
      { title: "Head Lens: export which heads?" },
    );
    if (!scope) return;
    const format = await vscode.window.showQuickPick(
      [
        { label: "Markdown", ext: "md" },
        { label: "JSON", ext: "json", description: "identical to the CLI's --json" },
        { label: "CSV", ext: "csv" },
      ],
      { title: "Head Lens: export format" },
    );
    if (!format) return;
    const uri = await vscode.window.showSaveDialog({
      filters: { [format.label]: [format.ext] },
      defaultUri: defaultExportUri(`${modelName(model)}-heads.${format.ext}`),
      title: "Export Head Lens report",
    });
    if (!uri) return;
    // Analyzed without touching the panel: it shows only the heads it was asked to show.
    const reports: HeadReport[] = (await s.analysis.analyze(model, scope.heads, settings)).map((h) => h.report);
    let text: string;
    if (format.ext === "json") {
      const body: HeadReport | ModelReport =
        reports.length === 1 ? reports[0] : { model: reports[0].model, ep: reports[0].ep, heads: reports };
      text = JSON.stringify(body) + "\n";
    } else if (format.ext === "csv") text = headReportsCsv(reports);
    else text = `# Head Lens report: ${modelName(model)}\n\n` + reports.map(headReportMarkdown).join("\n");
    writeFileSync(uri.fsPath, text);
    s.log.info(`exported ${reports.length} head${reports.length === 1 ? "" : "s"} of ${modelName(model)} to ${uri.fsPath}`);
    void vscode.window
      .showInformationMessage(
        notificationText(`Head Lens: exported ${reports.length} head${reports.length === 1 ? "" : "s"} to ${uri.fsPath}`),
        "Open",
      )
      .then((pick) => pick && vscode.window.showTextDocument(uri, { preview: false }))
      .then(undefined, (e) => s.reportError("open the export", e));
  });
}
