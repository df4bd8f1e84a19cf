/**
 * The model overview (one panel per model, reused): every head's metrics and the Q/K/V composition
 * heatmaps, computed by the worker and cached by the model's content identity. Cells open the
 * head, or the path through an earlier head, in the heads panel.
 */
import * as vscode from "vscode";
import { errorMessage } from "../../core/errors";
import { Channel } from "../../protocol/channel";
import { OverviewApi, OverviewHostApi } from "../../protocol/circuitViews";
import { ModelMetrics } from "../../protocol/engine";
import type { Services } from "./extension";
import { ModelEntry, modelName } from "./modelRegistry";
import { PanelHandlers, summary, webviewOptions } from "./panel";
import { showAndAnalyze } from "./panelHandlers";
import { webviewHtml } from "./webviewHtml";
import { WebviewPort } from "./webviewPort";

export const OVERVIEW_VIEW_TYPE = "headLens.overview";

export class OverviewPanel {
  private static panels = new Map<string, OverviewPanel>();
  private readonly channel: Channel<OverviewHostApi, OverviewApi>;
  private readonly port: WebviewPort;
  private last?: OverviewApi["show"]["params"];

  private constructor(readonly panel: vscode.WebviewPanel, readonly model: ModelEntry, private readonly s: Services, handlers: PanelHandlers) {
    panel.webview.options = webviewOptions(s.context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, s.context.extensionUri, "overview.js", ["panel.css", "circuits.css"], `Head Lens overview: ${modelName(model)}`);
    this.port = new WebviewPort(panel.webview);
    this.channel = new Channel<OverviewHostApi, OverviewApi>(this.port);
    const open = (what: string, f: () => Promise<void>) => f().catch((e) => s.reportError(what, e));
    this.channel
      .serve("ready", () => {
        // A hidden webview is not retained: it asks again when shown, and gets the latest figures.
        this.port.opened();
        this.port.discard();
        if (this.last) this.channel.notify("show", this.last);
      })
      .serve("openHead", (ref) => open("open head", () => showAndAnalyze(s, handlers, model, [ref])))
      .serve("openPath", ({ via, ...ref }) => open("open path", () => showAndAnalyze(s, handlers, model, [ref], via)));
    panel.onDidChangeViewState(() => {
      if (!panel.visible) this.port.closed();
    });
    panel.onDidDispose(() => OverviewPanel.panels.delete(model.id));
    OverviewPanel.panels.set(model.id, this);
  }

  static show(s: Services, handlers: PanelHandlers, model: ModelEntry): OverviewPanel {
    const existing = OverviewPanel.panels.get(model.id);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(OVERVIEW_VIEW_TYPE, `Overview: ${modelName(model)}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { retainContextWhenHidden: false });
    const p = new OverviewPanel(panel, model, s, handlers);
    void p.load();
    return p;
  }

  /** Re-attaches an overview VS Code restored after a reload. */
  static restore(s: Services, handlers: PanelHandlers, panel: vscode.WebviewPanel, model: ModelEntry): OverviewPanel {
    const p = new OverviewPanel(panel, model, s, handlers);
    void p.load();
    return p;
  }

  /** Shows the model at once, then its metrics (from the cache, or computed by the worker). */
  async load(): Promise<void> {
    this.send({ model: summary(this.model) });
    let metrics: ModelMetrics;
    try {
      metrics = await this.s.analysis.metrics(this.model);
    } catch (e) {
      this.s.reportError(`metrics of ${modelName(this.model)}`, e);
      this.send({ model: summary(this.model), error: errorMessage(e) });
      return;
    }
    this.send({ model: summary(this.model), metrics });
  }

  private send(params: OverviewApi["show"]["params"]): void {
    this.last = params;
    this.channel.notify("show", params);
  }
}
