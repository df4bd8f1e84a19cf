/**
 * The model overview (one per model, reused): every head's metrics and the Q/K/V composition
 * heatmaps, computed by the worker and cached by the model's content identity. Cells open the
 * head, or the path through an earlier head, in the heads panel.
 */
import * as vscode from "vscode";
import { errorMessage } from "../../core/errors";
import { OverviewApi, OverviewHostApi } from "../../protocol/overviewPanel";
import { LoadableModel, modelName, modelSummary } from "./modelEntry";
import { PAGES } from "./pages";
import type { Services } from "./services";
import { PageSet, WebviewHost } from "./webviewHost";

const overviews = new PageSet<OverviewPanel>();

export class OverviewPanel {
  readonly host: WebviewHost<OverviewHostApi, OverviewApi>;
  private last?: OverviewApi["show"]["params"];

  private constructor(
    readonly model: LoadableModel,
    private readonly s: Services,
    restored?: vscode.WebviewPanel,
  ) {
    const title = `Overview: ${modelName(model)}`;
    // A hidden page is not retained: the re-created one gets the latest figures.
    const options = { waiting: "discard" as const, onReady: () => this.last && this.host.post("show", this.last) };
    this.host = WebviewHost.open(restored, PAGES.overview, s.context.extensionUri, title, options);
    const open = (what: string, f: () => Promise<void>) => f().catch((e) => s.reportError(what, e));
    this.host.channel
      .serve("openHead", (ref) => open("open head", () => s.heads.show(model, [ref])))
      .serve("openPath", ({ via, ...ref }) => open("open path", () => s.heads.show(model, [ref], via)));
    overviews.add(model.id, this);
    void this.load();
  }

  /** Opens (or reveals) a model's overview. */
  static show(s: Services, model: LoadableModel): OverviewPanel {
    const existing = overviews.get(model.id);
    if (existing) {
      existing.host.reveal(false);
      return existing;
    }
    return new OverviewPanel(model, s);
  }

  /** Re-attaches an overview VS Code restored after a reload. */
  static restore(s: Services, panel: vscode.WebviewPanel, model: LoadableModel): OverviewPanel {
    return new OverviewPanel(model, s, panel);
  }

  /** Shows the model at once, then its metrics (from the cache, or computed by the worker). */
  private async load(): Promise<void> {
    const model = modelSummary(this.model);
    this.send({ model });
    try {
      this.send({ model, metrics: await this.s.analysis.metrics(this.model) });
    } catch (e) {
      this.s.reportError(`metrics of ${modelName(this.model)}`, e);
      this.send({ model, error: errorMessage(e) });
    }
  }

  private send(params: OverviewApi["show"]["params"]): void {
    this.last = params;
    this.host.post("show", params);
  }
}
