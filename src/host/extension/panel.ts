/**
 * The Head Lens panel, one per model and reused: hosts the webview, relays analysis events to it,
 * and restores itself after a reload (serializer) from the state the webview persisted.
 */
import * as vscode from "vscode";
import { webviewHtml } from "./webviewHtml";
import { Channel } from "../../protocol/channel";
import { PathRef } from "../../core/report";
import { ModelMetrics } from "../../protocol/engine";
import { HeadRef, ModelSummary, PanelApi, PanelHostApi, PanelState, pathKey, parsePathKey, ShownHead } from "../../protocol/webview";
import { ModelEntry, modelName } from "./modelRegistry";
import { WebviewPort } from "./webviewPort";

export const PANEL_VIEW_TYPE = "headLens.panel";

/** Serves the panel's requests on its channel (analyze, apply settings, copy, cancel). */
export interface PanelHandlers {
  attach(panel: HeadLensPanel): void;
}

type PanelMessage = { [M in keyof PanelApi]: [M, PanelApi[M]["params"]] }[keyof PanelApi];

export class HeadLensPanel {
  private static panels = new Map<string, HeadLensPanel>();
  private static lastActive?: HeadLensPanel;
  readonly channel: Channel<PanelHostApi, PanelApi>;
  private readonly port: WebviewPort;
  private everReady = false;
  /** The latest result of every head (and path of a head) shown, replayed when the webview is
   * re-created after being hidden (it is not retained while hidden, so results that arrive
   * meanwhile would be lost). Keyed by head and path. */
  private heads = new Map<string, ShownHead | HeadRef>();
  /** Composition scores that order each head's paths, replayed with the heads. */
  private composition?: { composition?: ModelMetrics["composition"]; error?: string };

  private constructor(readonly panel: vscode.WebviewPanel, readonly model: ModelEntry, extensionUri: vscode.Uri, handlers: PanelHandlers) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = html(panel.webview, extensionUri);
    this.port = new WebviewPort(panel.webview);
    this.channel = new Channel<PanelHostApi, PanelApi>(this.port);
    this.channel.serve("ready", () => {
      this.port.opened();
      if (this.everReady) {
        if (this.composition) this.channel.notify("paths", this.composition);
        for (const h of this.heads.values()) if ("report" in h) this.channel.notify("head", { head: h });
      }
      this.everReady = true;
      this.port.flush();
    });
    handlers.attach(this);
    panel.onDidChangeViewState(() => {
      if (panel.active) HeadLensPanel.lastActive = this;
      // A hidden webview is not retained: messages wait for the re-created one's "ready" (a reveal
      // posted right after panel.reveal() would otherwise be dropped).
      if (!panel.visible) this.port.closed();
    });
    panel.onDidDispose(() => {
      HeadLensPanel.panels.delete(model.id);
      if (HeadLensPanel.lastActive === this) HeadLensPanel.lastActive = undefined;
    });
    HeadLensPanel.panels.set(model.id, this);
    HeadLensPanel.lastActive = this;
  }

  static show(model: ModelEntry, extensionUri: vscode.Uri, handlers: PanelHandlers): HeadLensPanel {
    const existing = HeadLensPanel.panels.get(model.id);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, `Head Lens: ${modelName(model)}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, {
      retainContextWhenHidden: false,
    });
    return new HeadLensPanel(panel, model, extensionUri, handlers);
  }

  /** Re-attaches a panel VS Code restored after a reload. */
  static restore(panel: vscode.WebviewPanel, model: ModelEntry, extensionUri: vscode.Uri, handlers: PanelHandlers, state?: PanelState): HeadLensPanel {
    const p = new HeadLensPanel(panel, model, extensionUri, handlers);
    for (const h of state?.heads ?? []) p.heads.set(refKey(h.report, h.report.via), h);
    return p;
  }

  static forModel(id: string): HeadLensPanel | undefined {
    return HeadLensPanel.panels.get(id);
  }

  static active(): HeadLensPanel | undefined {
    return HeadLensPanel.lastActive;
  }

  static all(): HeadLensPanel[] {
    return [...HeadLensPanel.panels.values()];
  }

  /** Heads this panel shows (direct paths), in order. */
  shown(): HeadRef[] {
    return this.shownPaths().filter((p) => !p.via).map((p) => p.ref);
  }

  /** Every head and path this panel shows (the direct path has no `via`), heads in order. */
  shownPaths(): { ref: HeadRef; via?: PathRef }[] {
    const out = [...this.heads.entries()].map(([key, h]) => {
      const ref = "report" in h ? { layer: h.report.layer, head: h.report.head } : { layer: h.layer, head: h.head };
      const via = parsePathKey(key.split("|")[1]);
      return via ? { ref, via } : { ref };
    });
    return out.sort((a, b) => a.ref.layer - b.ref.layer || a.ref.head - b.ref.head);
  }

  /** Heads (or one path of each) the user asked this panel to show: only their results reach it
   * (an export or a copy analyzes other heads without changing what the panel shows). */
  request(heads: HeadRef[], via?: PathRef): void {
    for (const h of heads) if (!this.heads.has(refKey(h, via))) this.heads.set(refKey(h, via), { layer: h.layer, head: h.head });
  }

  wants(ref: HeadRef, via?: PathRef): boolean {
    return this.heads.has(refKey(ref, via));
  }

  /** Relays analysis events about the heads (and paths) this panel shows. */
  relay(event: { pending: HeadRef[]; via?: PathRef } | { progress: number; at: HeadRef; via?: PathRef } | { head: ShownHead } | { finished: { cancelled: boolean; error?: string }; heads: HeadRef[]; via?: PathRef }): void {
    if ("pending" in event) {
      const heads = event.pending.filter((h) => this.wants(h, event.via));
      if (heads.length) this.post("pending", event.via ? { heads, via: event.via } : { heads });
    } else if ("progress" in event) {
      if (this.wants(event.at, event.via)) this.post("progress", { fraction: event.progress, layer: event.at.layer, head: event.at.head, ...(event.via ? { via: event.via } : {}) });
    } else if ("head" in event) {
      if (this.wants(event.head.report, event.head.report.via)) this.post("head", { head: event.head });
    } else if (event.heads.some((h) => this.wants(h, event.via))) this.post("finished", event.finished);
  }

  /** Tells the webview something (queued until it is ready). */
  post(...[method, params]: PanelMessage): void {
    if (method === "head") this.heads.set(refKey(params.head.report, params.head.report.via), params.head);
    if (method === "paths") this.composition = params;
    this.channel.notify(method, params as never);
  }
}

/** "1:0" for a head's direct path, "1:0|0:3:k" for its path through L0H3's keys. */
const refKey = (r: HeadRef, via?: PathRef) => `${r.layer}:${r.head}${via ? `|${pathKey(via)}` : ""}`;

export function summary(model: ModelEntry): ModelSummary {
  const c = model.config!;
  return { id: model.id, name: modelName(model), nLayers: c.n_layers, nHeads: c.n_heads, dVocab: c.d_vocab, dModel: c.d_model };
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
  };
}

function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewHtml(webview, extensionUri, "main.js", ["panel.css"], "Head Lens");
}
