/** What the panel's requests do on the host side, and keeping every panel true to the settings. */
import * as vscode from "vscode";
import { isCancelled } from "../../core/errors";
import { headName } from "../../core/headName";
import { formatHeadReport } from "../../core/reportText";
import { HeadRef } from "../../protocol/webview";
import type { Services } from "./extension";
import { HeadLensPanel, PanelHandlers, summary } from "./panel";
import { readPanelSettings, writePanelSettings } from "./settings";
import { ModelEntry, modelName } from "./modelRegistry";

/** Opens (or reuses) the model's panel, analyzes heads into it and scrolls to the first; the
 * hover now describes that head (the status bar says so). */
export async function showAndAnalyze(s: Services, handlers: PanelHandlers, model: ModelEntry, heads: HeadRef[]): Promise<void> {
  const existing = HeadLensPanel.forModel(model.id);
  const panel = HeadLensPanel.show(model, s.context.extensionUri, handlers);
  if (!existing) panel.post("init", { model: summary(model), settings: readPanelSettings() });
  panel.request(heads);
  if (heads.length) {
    panel.post("reveal", heads[0]);
    s.hoverContext.set(model, heads[0]);
  }
  await analyzeInto(s, model, heads);
}

/** Analyzes heads (their results reach the panel through the analysis listener); reports failures once. */
async function analyzeInto(s: Services, model: ModelEntry, heads: HeadRef[]): Promise<void> {
  try {
    await s.analysis.analyze(model, heads, readPanelSettings());
  } catch (e) {
    if (!isCancelled(e)) s.reportError(`analysis of ${modelName(model)} failed`, e);
  }
}

/**
 * After a settings change (or an edit of the prior's words file): every panel shows the new
 * settings and re-runs the heads it shows — cached results return at once — so no card on screen
 * was computed under settings other than the ones displayed.
 */
export async function refreshPanels(s: Services): Promise<void> {
  const settings = readPanelSettings();
  await Promise.all(HeadLensPanel.all().map(async (panel) => {
    if (!panel.model.config) return;
    panel.post("init", { model: summary(panel.model), settings });
    const heads = panel.shown();
    if (heads.length) await analyzeInto(s, panel.model, heads);
  }));
}

export function panelHandlers(s: Services): PanelHandlers {
  const handlers: PanelHandlers = {
    attach(panel: HeadLensPanel) {
      const guard = <P>(what: string, f: (p: P) => Promise<void> | void) => async (p: P) => {
        try {
          await f(p);
        } catch (e) {
          if (!isCancelled(e)) s.reportError(what, e);
        }
      };
      panel.channel
        // The configuration listener re-runs the shown heads under the new settings (refreshPanels).
        .serve("applySettings", guard("apply settings", ({ settings }) => writePanelSettings(settings)))
        .serve("analyzeHead", guard("analyze head", (ref) => showAndAnalyze(s, handlers, panel.model, [ref])))
        .serve("analyzeLayer", guard("analyze layer", ({ layer }) => showAndAnalyze(s, handlers, panel.model, Array.from({ length: panel.model.config!.n_heads }, (_, head) => ({ layer, head })))))
        .serve("cancel", () => s.analysis.cancelAll())
        // Working in a head (focus or click inside it) makes it the hover's head.
        .serve("focusHead", (ref) => s.hoverContext.set(panel.model, ref))
        .serve("copyReport", guard("copy report", async (ref) => {
          const hit = await s.analysis.cached(panel.model, readPanelSettings(), ref);
          if (!hit) return;
          await vscode.env.clipboard.writeText(formatHeadReport(hit.report));
          void vscode.window.setStatusBarMessage(`Head Lens: report of ${headName(ref.layer, ref.head)} copied`, 3000);
        }));
    },
  };
  return handlers;
}
