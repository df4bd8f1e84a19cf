/**
 * The attention panel: one page showing the last run on the user's text (AttentionController
 * decides what runs). It keeps its context while hidden (pages.ts says why); a window reload
 * re-creates it from its saved session (AttentionController.restore).
 */
import * as vscode from "vscode";
import { AttentionPanelApi, AttentionPanelHostApi } from "../../protocol/attentionPanel";
import { PAGES } from "./pages";
import { WebviewHost } from "./webviewHost";

const TITLE = "Head Lens: Attention";

export class AttentionPanel {
  readonly host: WebviewHost<AttentionPanelHostApi, AttentionPanelApi>;

  /** A new panel beside the editor, or (`restored`) the one VS Code re-created after a reload. */
  constructor(extensionUri: vscode.Uri, restored?: vscode.WebviewPanel) {
    this.host = restored
      ? WebviewHost.adopt(restored, PAGES.attention, extensionUri, TITLE, { waiting: "flush" })
      : WebviewHost.create(
          PAGES.attention,
          extensionUri,
          TITLE,
          { column: vscode.ViewColumn.Beside, preserveFocus: true },
          { waiting: "flush" },
        );
  }

  get post(): WebviewHost<AttentionPanelHostApi, AttentionPanelApi>["post"] {
    return this.host.post.bind(this.host);
  }

  reveal(): void {
    this.host.reveal(true);
  }
}
