/**
 * The attention panel: one page showing the last run on the user's text (AttentionController
 * decides what runs). It keeps its context while hidden (pages.ts says why); a window reload
 * re-creates it from its saved session (AttentionController.restore).
 */
import * as vscode from "vscode";
import { errorMessage } from "../../core/errors";
import { AttentionPanelApi, AttentionPanelHostApi } from "../../protocol/attentionPanel";
import type { AnalysisService } from "./analysisService";
import type { LoadableModel } from "./modelEntry";
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

  /** Head metrics beside each head, from the analysis service (cached by the model's content in the
   * worker; a failure is not asked again while typing). Shown only beside a run of that content. */
  showMetrics(analysis: AnalysisService, model: LoadableModel, runIdentity: string): void {
    const known = analysis.knownMetrics(model);
    if (known?.identity === runIdentity) {
      this.post("metrics", { identity: known.identity, heads: known.heads });
      return;
    }
    analysis.metrics(model).then(
      (m) => this.post("metrics", { identity: m.identity, heads: m.heads }),
      (e) => this.post("metrics", { identity: runIdentity, unavailable: errorMessage(e) }),
    );
  }

  reveal(): void {
    this.host.reveal(true);
  }
}
