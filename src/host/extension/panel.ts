/**
 * The Head Lens panel, one per model and reused: hosts the webview, relays analysis events to it,
 * and restores itself after a reload (serializer) from the state the webview persisted.
 */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import { Channel } from "../../protocol/channel";
import { HeadRef, ModelSummary, PanelApi, PanelHostApi, PanelState, ShownHead } from "../../protocol/webview";
import { ModelEntry, modelName } from "./modelRegistry";

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
  private ready = false;
  private everReady = false;
  /** The latest result of every head shown, replayed when the webview is re-created after being
   * hidden (it is not retained while hidden, so results that arrive meanwhile would be lost). */
  private heads = new Map<string, ShownHead | HeadRef>();
  private queue: unknown[] = [];

  private constructor(readonly panel: vscode.WebviewPanel, readonly model: ModelEntry, extensionUri: vscode.Uri, handlers: PanelHandlers) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = html(panel.webview, extensionUri);
    this.channel = new Channel<PanelHostApi, PanelApi>({
      post: (m) => (this.ready ? void panel.webview.postMessage(m) : this.queue.push(m)),
      listen: (h) => {
        const d = panel.webview.onDidReceiveMessage(h);
        return () => d.dispose();
      },
    });
    this.channel.serve("ready", () => {
      this.ready = true;
      if (this.everReady) for (const h of this.heads.values()) if ("report" in h) this.channel.notify("head", { head: h });
      this.everReady = true;
      for (const m of this.queue.splice(0)) void panel.webview.postMessage(m);
    });
    handlers.attach(this);
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
    for (const h of state?.heads ?? []) p.heads.set(refKey(h.report), h);
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
  shown(): HeadRef[] {
    const refs = [...this.heads.values()].map((h) => ("report" in h ? { layer: h.report.layer, head: h.report.head } : h));
    return refs.sort((a, b) => a.layer - b.layer || a.head - b.head);
  }

  /** Heads the user asked this panel to show: only their results reach it (an export or a copy
   * analyzes other heads without changing what the panel shows). */
  request(heads: HeadRef[]): void {
    for (const h of heads) if (!this.heads.has(refKey(h))) this.heads.set(refKey(h), { layer: h.layer, head: h.head });
  }

  wants(ref: HeadRef): boolean {
    return this.heads.has(refKey(ref));
  }

  /** Relays analysis events about the heads this panel shows. */
  relay(event: { pending: HeadRef[] } | { progress: number; at: HeadRef } | { head: ShownHead } | { finished: { cancelled: boolean; error?: string }; heads: HeadRef[] }): void {
    if ("pending" in event) {
      const heads = event.pending.filter((h) => this.wants(h));
      if (heads.length) this.post("pending", { heads });
    } else if ("progress" in event) {
      if (this.wants(event.at)) this.post("progress", { fraction: event.progress, layer: event.at.layer, head: event.at.head });
    } else if ("head" in event) {
      if (this.wants(event.head.report)) this.post("head", { head: event.head });
    } else if (event.heads.some((h) => this.wants(h))) this.post("finished", event.finished);
  }

  /** Tells the webview something (queued until it is ready). */
  post(...[method, params]: PanelMessage): void {
    if (method === "head") this.heads.set(refKey(params.head.report), params.head);
    this.channel.notify(method, params as never);
  }
}

const refKey = (r: HeadRef) => `${r.layer}:${r.head}`;

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
<main id="app"><p class="empty">Loading Head Lens…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
