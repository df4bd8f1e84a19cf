/**
 * The attention panel: one webview (its own bundle, dist/webview/attention.js, and media/attention.css)
 * showing the last run on the user's text. It keeps its context while hidden: a run's thumbnails,
 * predictions and the enlarged head's exact pattern would otherwise have to be sent again on every
 * tab switch. A window reload re-creates it from its saved session (AttentionController.restore).
 */
import * as vscode from "vscode";
import { Channel } from "../../protocol/channel";
import { AttentionPanelApi, AttentionPanelHostApi } from "../../protocol/attention";
import { webviewOptions } from "./panel";
import { webviewHtml } from "./webviewHtml";
import { WebviewPort } from "./webviewPort";

export const ATTENTION_VIEW_TYPE = "headLens.attention";

type PanelMessage = { [M in keyof AttentionPanelApi]: [M, AttentionPanelApi[M]["params"]] }[keyof AttentionPanelApi];

export class AttentionPanel {
  readonly channel: Channel<AttentionPanelHostApi, AttentionPanelApi>;
  private readonly port: WebviewPort;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, "media", "head-lens.svg");
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, "attention.js", ["attention.css"], "Head Lens: Attention");
    this.port = new WebviewPort(panel.webview);
    this.channel = new Channel<AttentionPanelHostApi, AttentionPanelApi>(this.port);
    this.channel.serve("ready", () => {
      this.port.opened();
      this.port.flush();
    });
    panel.onDidDispose(() => {
      this.channel.close(new Error("the attention panel was closed"));
      this.disposed.fire();
    });
  }

  static create(extensionUri: vscode.Uri): AttentionPanel {
    const panel = vscode.window.createWebviewPanel(ATTENTION_VIEW_TYPE, "Head Lens: Attention", { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      retainContextWhenHidden: true,
    });
    return new AttentionPanel(panel, extensionUri);
  }

  /** The panel VS Code re-created after a window reload (its webview starts empty). */
  static restore(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): AttentionPanel {
    return new AttentionPanel(panel, extensionUri);
  }

  post(...[method, params]: PanelMessage): void {
    this.channel.notify(method, params as never);
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }
}
