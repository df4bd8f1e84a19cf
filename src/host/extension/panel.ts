/**
 * The Head Lens panel, one per model and reused: hosts the webview, relays analysis events to it,
 * and restores itself after a reload (serializer) from the state the webview persisted.
 */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import { HostToWebview, ModelSummary, PanelState, ShownHead, WebviewToHost } from "../../protocol/webview";
import { ModelEntry, modelName } from "./modelRegistry";

export const PANEL_VIEW_TYPE = "headLens.panel";

export interface PanelHandlers {
  onMessage(panel: HeadLensPanel, msg: WebviewToHost): void;
}

export class HeadLensPanel {
  private static panels = new Map<string, HeadLensPanel>();
  private static lastActive?: HeadLensPanel;
  /** The head the user looked at last (hovers describe the token in this head). */
  focused?: { layer: number; head: number };
  private ready = false;
  private everReady = false;
  /** The latest result of every head shown, replayed when the webview is re-created after being
   * hidden (it is not retained while hidden, so results that arrive meanwhile would be lost). */
  private heads = new Map<string, ShownHead | { layer: number; head: number }>();
  private queue: HostToWebview[] = [];

  private constructor(readonly panel: vscode.WebviewPanel, readonly model: ModelEntry, extensionUri: vscode.Uri, handlers: PanelHandlers) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = html(panel.webview, extensionUri);
    panel.webview.onDidReceiveMessage((msg: WebviewToHost) => {
      if (msg.type === "ready") {
        this.ready = true;
        if (this.everReady) {
          for (const h of this.heads.values()) if ("report" in h) void panel.webview.postMessage({ type: "head", head: h } satisfies HostToWebview);
        }
        this.everReady = true;
        for (const m of this.queue.splice(0)) void panel.webview.postMessage(m);
      }
      if (msg.type === "focusHead") this.focused = { layer: msg.layer, head: msg.head };
      handlers.onMessage(this, msg);
    });
    panel.onDidChangeViewState(() => {
      if (panel.active) HeadLensPanel.lastActive = this;
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
    for (const h of state?.heads ?? []) p.heads.set(`${h.report.layer}:${h.report.head}`, h);
    if (state?.heads.length) {
      const last = state.heads[state.heads.length - 1].report;
      p.focused = { layer: last.layer, head: last.head };
    }
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

  /** Heads this panel shows, in order. */
  shown(): { layer: number; head: number }[] {
    const refs = [...this.heads.values()].map((h) => ("report" in h ? { layer: h.report.layer, head: h.report.head } : h));
    return refs.sort((a, b) => a.layer - b.layer || a.head - b.head);
  }

  post(msg: HostToWebview): void {
    if (msg.type === "head") {
      const { layer, head } = msg.head.report;
      this.focused = { layer, head };
      this.heads.set(`${layer}:${head}`, msg.head);
    }
    if (this.ready) void this.panel.webview.postMessage(msg);
    else this.queue.push(msg);
  }
}

export function summary(model: ModelEntry): ModelSummary {
  const c = model.config!;
  return { id: model.id, name: modelName(model), nLayers: c.n_layers, nHeads: c.n_heads, dVocab: c.d_vocab };
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
  };
}

function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString("base64");
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", "main.js"));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "panel.css"));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Head Lens</title>
</head>
<body>
<div id="app" aria-live="polite"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
