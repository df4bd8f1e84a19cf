/**
 * The heads panels, one per model: opening heads (or paths of heads) in them, serving their pages'
 * requests, and keeping every panel true to the settings — after a change each re-runs what it
 * shows (cached results come back at once), so no card on screen was computed under other settings
 * than the ones displayed.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { allHeads, headName, HeadRef, pathKey } from "../../core/heads";
import { PathRef } from "../../core/report";
import { ReportSettings } from "../../core/reportSettings";
import { formatHeadReport } from "../../core/reportText";
import { PanelState } from "../../protocol/headsPanel";
import { AnalysisService } from "./analysisService";
import { HeadsPanel } from "./headsPanel";
import { HoverContext } from "./hoverContext";
import { LoadableModel, modelName, modelSummary } from "./modelEntry";
import { PageSet } from "./webviewHost";

export interface HeadsPanelsDeps {
  extensionUri: vscode.Uri;
  analysis: AnalysisService;
  hoverContext: HoverContext;
  log: vscode.LogOutputChannel;
  reportError(what: string, e: unknown): void;
  reportSettings(): ReportSettings;
  writeReportSettings(s: ReportSettings): Promise<void>;
}

export class HeadsPanels implements vscode.Disposable {
  private readonly panels = new PageSet<HeadsPanel>();
  private readonly subscription: { dispose(): void };

  constructor(private readonly d: HeadsPanelsDeps) {
    const forModel = (id: string) => this.panels.get(id);
    this.subscription = d.analysis.listen({
      pending: (m, heads, via) => forModel(m.id)?.relay({ pending: heads, via }),
      progress: (m, fraction, at, via) => forModel(m.id)?.relay({ progress: fraction, at, via }),
      head: (m, head) => forModel(m.id)?.relay({ head }),
      finished: (m, outcome, heads, via) => forModel(m.id)?.relay({ finished: outcome, heads, via }),
    });
  }

  /** The model of the heads panel the user last worked in. */
  activeModel(): LoadableModel | undefined {
    return this.panels.active()?.model;
  }

  /** Heads shown in a model's panel, if it has one. */
  shownHeads(modelId: string): HeadRef[] {
    return this.panels.get(modelId)?.shown() ?? [];
  }

  /** Opens (or reuses) the model's panel, analyzes heads (or one path of each: `via`) into it and
   * scrolls to the first, showing that path; the hover now describes that head (the status bar says so). */
  async show(model: LoadableModel, heads: HeadRef[], via?: PathRef): Promise<void> {
    let panel = this.panels.get(model.id);
    if (panel) panel.host.reveal(true);
    else {
      panel = this.attach(new HeadsPanel(model, this.d.extensionUri));
      this.init(panel);
    }
    panel.request(heads, via);
    if (heads.length) {
      // The path asked for is the one shown (a plain "analyze" shows the direct path).
      panel.post("reveal", { ...heads[0], via: via ?? null });
      this.d.hoverContext.set(model, heads[0]);
    }
    await this.analyzeInto(model, heads, via);
  }

  /** Re-attaches a panel VS Code restored after a reload; its cards were computed before the
   * reload, so it re-runs them (from the cache, or computed) under today's files and settings. */
  async restore(webviewPanel: vscode.WebviewPanel, model: LoadableModel, state: PanelState | undefined): Promise<void> {
    await this.refresh(this.attach(new HeadsPanel(model, this.d.extensionUri, { panel: webviewPanel, state })));
  }

  /** After a settings change or an edit of the prior's words file: every panel re-runs what it shows. */
  async refreshAll(): Promise<void> {
    await Promise.all(this.panels.all().map((p) => this.refresh(p)));
  }

  dispose(): void {
    this.subscription.dispose();
  }

  /** One panel shows the settings and re-runs its heads and paths, one request per path (direct first). */
  private async refresh(panel: HeadsPanel): Promise<void> {
    this.init(panel);
    const groups = new Map<string, { via?: PathRef; heads: HeadRef[] }>();
    for (const { ref, via } of panel.shownPaths()) {
      const g = groups.get(pathKey(via)) ?? { via, heads: [] };
      g.heads.push(ref);
      groups.set(pathKey(via), g);
    }
    for (const g of [...groups.values()].sort((a, b) => Number(!!a.via) - Number(!!b.via)))
      await this.analyzeInto(panel.model, g.heads, g.via);
  }

  /** The settings shown, and the composition scores that order each head's paths (computed once per model). */
  private init(panel: HeadsPanel): void {
    const model = panel.model;
    panel.post("init", { model: modelSummary(model), settings: this.d.reportSettings() });
    if (model.config.n_layers < 2) return;
    this.d.analysis.metrics(model).then(
      (m) => panel.post("paths", { composition: m.composition }),
      (e) => panel.post("paths", { error: errorMessage(e) }),
    );
  }

  /** Analyzes heads (their results reach the panel through the analysis listener); reports failures once. */
  private async analyzeInto(model: LoadableModel, heads: HeadRef[], via?: PathRef): Promise<void> {
    try {
      await this.d.analysis.analyze(model, heads, this.d.reportSettings(), via);
    } catch (e) {
      if (!isCancelled(e)) this.d.reportError(`analysis of ${modelName(model)} failed`, e);
    }
  }

  /** Serves a panel's requests (analyze, apply settings, copy, cancel) and lists it. */
  private attach(panel: HeadsPanel): HeadsPanel {
    const model = panel.model;
    const guard =
      <P>(what: string, f: (p: P) => Promise<void> | void) =>
      async (p: P) => {
        try {
          await f(p);
        } catch (e) {
          if (!isCancelled(e)) this.d.reportError(what, e);
        }
      };
    panel.host.channel
      // The configuration listener re-runs the shown heads under the new settings (refreshAll).
      .serve(
        "applySettings",
        guard("apply settings", ({ settings }) => this.d.writeReportSettings(settings)),
      )
      .serve(
        "analyzeHead",
        guard("analyze head", (ref) => this.show(model, [ref])),
      )
      .serve(
        "analyzeLayer",
        guard("analyze layer", ({ layer }) => this.show(model, allHeads(layer + 1, model.config.n_heads, layer))),
      )
      .serve("cancel", () => this.d.analysis.cancelAll())
      // Working in a head (focus or click inside it) makes it the hover's head.
      .serve("focusHead", (ref) => this.d.hoverContext.set(model, ref))
      .serve(
        "analyzePath",
        guard("analyze path", ({ layer, head, via }) => this.show(model, [{ layer, head }], via)),
      )
      .serve(
        "copyReport",
        guard("copy report", async ({ via, ...ref }) => {
          const hit = await this.d.analysis.cached(model, this.d.reportSettings(), ref, via);
          if (!hit) return;
          await vscode.env.clipboard.writeText(formatHeadReport(hit.report));
          void vscode.window.setStatusBarMessage(`Head Lens: report of ${headName(ref.layer, ref.head)} copied`, 3000);
        }),
      );
    return this.panels.add(model.id, panel);
  }
}
