/** What the panel's requests do on the host side, and keeping every panel true to the settings. */
import * as vscode from "vscode";
import { isCancelled } from "../../core/errors";
import { headName } from "../../core/headName";
import { errorMessage } from "../../core/errors";
import { PathRef } from "../../core/report";
import { formatHeadReport } from "../../core/reportText";
import { HeadRef, pathKey } from "../../protocol/webview";
import type { Services } from "./extension";
import { HeadLensPanel, PanelHandlers, summary } from "./panel";
import { readPanelSettings, writePanelSettings } from "./settings";
import { ModelEntry, modelName } from "./modelRegistry";

/** Opens (or reuses) the model's panel, analyzes heads (or one path of each: `via`) into it and
 * scrolls to the first, showing that path; the hover now describes that head (the status bar says so). */
export async function showAndAnalyze(s: Services, handlers: PanelHandlers, model: ModelEntry, heads: HeadRef[], via?: PathRef): Promise<void> {
  const existing = HeadLensPanel.forModel(model.id);
  const panel = HeadLensPanel.show(model, s.context.extensionUri, handlers);
  if (!existing) {
    panel.post("init", { model: summary(model), settings: readPanelSettings() });
    sendPaths(s, panel);
  }
  panel.request(heads, via);
  if (heads.length) {
    // The path asked for is the one shown (a plain "analyze" shows the direct path).
    panel.post("reveal", { ...heads[0], via: via ?? null });
    s.hoverContext.set(model, heads[0]);
  }
  await analyzeInto(s, model, heads, via);
}

/** Sends the panel the composition scores that order each head's paths (computed once per model). */
export function sendPaths(s: Services, panel: HeadLensPanel): void {
  if (!panel.model.config || panel.model.config.n_layers < 2) return;
  s.analysis.metrics(panel.model).then(
    (m) => panel.post("paths", { composition: m.composition }),
    (e) => {
      s.log.warn(`composition scores of ${modelName(panel.model)}: ${errorMessage(e)}`);
      panel.post("paths", { error: errorMessage(e) });
    },
  );
}

/** Analyzes heads (their results reach the panel through the analysis listener); reports failures once. */
async function analyzeInto(s: Services, model: ModelEntry, heads: HeadRef[], via?: PathRef): Promise<void> {
  try {
    await s.analysis.analyze(model, heads, readPanelSettings(), via);
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
    sendPaths(s, panel); // a restored panel gets them here (cached: composition does not depend on settings)
    // One request per path (the direct one first): each is its own result under the new settings.
    const groups = new Map<string, { via?: PathRef; heads: HeadRef[] }>();
    for (const { ref, via } of panel.shownPaths()) {
      const g = groups.get(pathKey(via)) ?? { via, heads: [] };
      g.heads.push(ref);
      groups.set(pathKey(via), g);
    }
    for (const g of [...groups.values()].sort((a, b) => Number(!!a.via) - Number(!!b.via))) await analyzeInto(s, panel.model, g.heads, g.via);
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
        .serve("analyzePath", guard("analyze path", ({ layer, head, via }) => showAndAnalyze(s, handlers, panel.model, [{ layer, head }], via)))
        .serve("copyReport", guard("copy report", async ({ via, ...ref }) => {
          const hit = await s.analysis.cached(panel.model, readPanelSettings(), ref, via);
          if (!hit) return;
          await vscode.env.clipboard.writeText(formatHeadReport(hit.report));
          void vscode.window.setStatusBarMessage(`Head Lens: report of ${headName(ref.layer, ref.head)} copied`, 3000);
        }));
    },
  };
  return handlers;
}
