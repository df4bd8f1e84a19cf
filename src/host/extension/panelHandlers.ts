/** What the panel's messages do on the host side. */
import * as vscode from "vscode";
import { formatHeadReport } from "../../core/reportText";
import { WebviewToHost } from "../../protocol/webview";
import type { Services } from "./extension";
import { HeadLensPanel, PanelHandlers, summary } from "./panel";
import { readPanelSettings, writePanelSettings } from "./settings";
import { HeadRef } from "./analysisService";
import { ModelEntry } from "./modelRegistry";

/** Opens (or reuses) the model's panel and analyzes heads into it. */
export async function showAndAnalyze(s: Services, handlers: PanelHandlers, model: ModelEntry, heads: HeadRef[]): Promise<void> {
  const existing = HeadLensPanel.forModel(model.id);
  const panel = HeadLensPanel.show(model, s.context.extensionUri, handlers);
  if (!existing) panel.post({ type: "init", model: summary(model), settings: readPanelSettings() });
  if (heads.length) panel.post({ type: "reveal", layer: heads[0].layer, head: heads[0].head });
  try {
    await s.analysis.analyze(model, heads, readPanelSettings());
  } catch (e) {
    if ((e as { code?: string }).code !== "cancelled") s.reportError(`analysis of ${model.config?.model_name ?? model.dir} failed`, e);
  }
}

export function panelHandlers(s: Services): PanelHandlers {
  const handlers: PanelHandlers = {
    onMessage(panel: HeadLensPanel, msg: WebviewToHost) {
      switch (msg.type) {
        case "applySettings":
          void (async () => {
            await writePanelSettings(msg.settings);
            panel.post({ type: "init", model: summary(panel.model), settings: readPanelSettings() });
            const heads = panel.shown();
            if (heads.length) await showAndAnalyze(s, handlers, panel.model, heads);
          })();
          break;
        case "analyzeHead":
          void showAndAnalyze(s, handlers, panel.model, [{ layer: msg.layer, head: msg.head }]);
          break;
        case "analyzeLayer":
          void showAndAnalyze(s, handlers, panel.model, Array.from({ length: panel.model.config!.n_heads }, (_, head) => ({ layer: msg.layer, head })));
          break;
        case "cancel":
          s.analysis.cancelAll();
          break;
        case "copyReport":
          void (async () => {
            const hit = await s.analysis.cached(panel.model, readPanelSettings(), msg);
            if (hit) {
              await vscode.env.clipboard.writeText(formatHeadReport(hit.report));
              void vscode.window.setStatusBarMessage(`Head Lens: report of head ${msg.layer}:${msg.head} copied`, 3000);
            }
          })();
          break;
      }
    },
  };
  return handlers;
}
