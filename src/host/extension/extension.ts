/** Activation: wires the engine, model registry, tree, panel, hover, commands and status bar. */
import * as vscode from "vscode";
import { availableParallelism } from "node:os";
import { dirname, basename, isAbsolute } from "node:path";
import { errorMessage, isHeadLensError } from "../../core/errors";
import { EngineClient } from "../engineClient";
import { AnalysisService } from "./analysisService";
import { registerCommands } from "./commands";
import { HeadTreeProvider, TreeNode } from "./headTree";
import { hoverSelector, TokenHoverProvider } from "./hover";
import { HoverContext } from "./hoverContext";
import { ModelRegistry } from "./modelRegistry";
import { HeadLensPanel, PANEL_VIEW_TYPE, summary } from "./panel";
import { ResultCache } from "./resultCache";
import { engineSettings, readPanelSettings, SECTION } from "./settings";
import { PanelState } from "../../protocol/webview";
import { panelHandlers, refreshPanels } from "./panelHandlers";
import { registerHubCommands } from "./hubDownloads";
import { registerCircuitViews } from "./circuitViews";
import { registerAttention } from "./attentionCommands";

export interface Services {
  context: vscode.ExtensionContext;
  /** Timestamped, levelled log ("Head Lens" output channel). */
  log: vscode.LogOutputChannel;
  registry: ModelRegistry;
  engine: () => EngineClient;
  analysis: AnalysisService;
  tree: HeadTreeProvider;
  treeView: vscode.TreeView<TreeNode>;
  hover: TokenHoverProvider;
  hoverContext: HoverContext;
  reportError(what: string, e: unknown): void;
}

export function activate(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel("Head Lens", { log: true });
  const reportError = (what: string, e: unknown) => {
    const msg = errorMessage(e);
    log.error(`${what}: ${msg}`);
    if (e instanceof Error && e.stack && !isHeadLensError(e)) log.debug(e.stack);
    void vscode.window.showErrorMessage(`Head Lens: ${what}: ${msg.split("\n")[0]}`, "Show Details").then((pick) => pick && log.show(true));
  };

  let client: EngineClient | undefined;
  const engine = () => (client ??= new EngineClient({
    ...engineSettings(), mediaDir: vscode.Uri.joinPath(context.extensionUri, "media").fsPath,
    workerPath: vscode.Uri.joinPath(context.extensionUri, "dist", "worker.js").fsPath,
    threads: availableParallelism(), log: (m) => log.info(m),
  }));

  const registry = new ModelRegistry(vscode.Uri.joinPath(context.extensionUri, "models").fsPath, context.globalState, vscode.Uri.joinPath(context.globalStorageUri, "converted").fsPath, engine);
  const cache = new ResultCache(vscode.Uri.joinPath(context.globalStorageUri, "results").fsPath);
  const analysis = new AnalysisService(engine, cache, log);
  const tree = new HeadTreeProvider(registry, analysis);
  const treeView = vscode.window.createTreeView("headLens.models", { treeDataProvider: tree, showCollapseAll: true });
  const hoverContext = new HoverContext(registry, context.workspaceState);
  const hover = new TokenHoverProvider(hoverContext, engine, log);
  const services: Services = { context, log, registry, engine, analysis, tree, treeView, hover, hoverContext, reportError };

  // The hover's context has its own item (hoverContext.ts); this one is the engine's: provider and last time.
  const status = vscode.window.createStatusBarItem("headLens.status", vscode.StatusBarAlignment.Right, 100);
  status.name = "Head Lens: execution provider";
  status.command = "headLens.showOutput";
  const updateStatus = () => {
    const ep = analysis.lastEp ? analysis.lastEp.toUpperCase() : engineSettings().epPreference[0].toUpperCase();
    status.text = analysis.busy ? `$(loading~spin) ${ep}` : `$(chip) ${ep}${analysis.lastElapsedMs ? ` · ${(analysis.lastElapsedMs / 1000).toFixed(2)} s` : ""}`;
    status.tooltip = analysis.lastEp ? `Head Lens: execution provider that ran the last head: ${analysis.lastEp}; it took ${(analysis.lastElapsedMs / 1000).toFixed(2)} s. Click for the log.` : "Head Lens: no head analyzed yet. Click for the log.";
    status.show();
    // Shows the Cancel action only while something runs.
    void vscode.commands.executeCommand("setContext", "headLens.busy", analysis.busy);
  };
  updateStatus();

  const handlers = panelHandlers(services);
  // A settings change (several keys at once from the panel's Apply) or an edit of the prior's
  // words file: every panel re-runs its heads under what is now displayed.
  const settingsChanged = debounced(150, () => refreshPanels(services).catch((e) => reportError("refresh after a settings change", e)));
  let priorWatcher: vscode.Disposable | undefined;
  const watchPrior = () => {
    priorWatcher?.dispose();
    priorWatcher = undefined;
    const priors = readPanelSettings().priors;
    if (priors === "bundled" || priors === "uniform" || !isAbsolute(priors)) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(priors)), basename(priors)));
    const changed = () => {
      tree.refresh();
      settingsChanged.schedule();
    };
    priorWatcher = vscode.Disposable.from(w, w.onDidChange(changed), w.onDidCreate(changed), w.onDidDelete(changed));
  };
  watchPrior();
  context.subscriptions.push(
    log, treeView, status, hoverContext,
    analysis.listen({
      pending: (m, heads, via) => (HeadLensPanel.forModel(m.id)?.relay({ pending: heads, via }), updateStatus()),
      progress: (m, fraction, at, via) => HeadLensPanel.forModel(m.id)?.relay({ progress: fraction, at, via }),
      head: (m, head) => (HeadLensPanel.forModel(m.id)?.relay({ head }), updateStatus()),
      finished: (m, outcome, heads, via) => (HeadLensPanel.forModel(m.id)?.relay({ finished: outcome, heads, via }), setTimeout(updateStatus, 0)),
    }),
    vscode.languages.registerHoverProvider(hoverSelector(), hover),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: PanelState | undefined) {
        await registry.ready;
        const model = state?.model && registry.get(state.model.id);
        if (!model?.config) {
          panel.dispose(); // its model is gone: nothing to restore
          return;
        }
        const p = HeadLensPanel.restore(panel, model, context.extensionUri, handlers, state);
        p.post("init", { model: summary(model), settings: readPanelSettings() });
        // Restored cards were computed before the reload: recompute (or fetch from the cache) under today's files.
        await refreshPanels(services);
      },
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.executionProviders`) || e.affectsConfiguration(`${SECTION}.blockSizeMB`)) {
        const old = client;
        client = undefined;
        void old?.dispose();
      }
      if (e.affectsConfiguration(`${SECTION}.modelFolders`)) void registry.refresh();
      if (e.affectsConfiguration(SECTION)) tree.refresh();
      if (RESULT_SETTINGS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
        watchPrior();
        settingsChanged.schedule();
      }
    }),
    { dispose: () => priorWatcher?.dispose() },
    { dispose: () => void client?.dispose() },
  );
  registerCommands(services, handlers);
  registerHubCommands(services);
  registerCircuitViews(services, handlers);
  registerAttention(services);
  return services;
}

/** Settings that change analysis results. */
const RESULT_SETTINGS = ["keys", "queries", "outputs", "priors"];

function debounced(ms: number, f: () => unknown): { schedule(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        f();
      }, ms);
    },
  };
}

export function deactivate(): void {
  // Disposables registered on the context shut the worker down.
}
