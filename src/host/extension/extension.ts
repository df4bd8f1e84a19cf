/** Activation: builds the services (services.ts) and wires the tree, panels, hover, commands and status bar. Nothing imports this file. */
import * as vscode from "vscode";
import { availableParallelism } from "node:os";
import { basename, dirname, isAbsolute } from "node:path";
import { errorMessage, isHeadLensError } from "../../core/errors";
import { notificationText } from "../../core/markdownText";
import { EngineClient } from "../engineClient";
import { AnalysisService, ProgressUi } from "./analysisService";
import { registerAttention } from "./attentionCommands";
import { registerPatching } from "./patchingCommands";
import { registerTimeline } from "./timelineCommands";
import { registerCircuitCommands } from "./circuitCommands";
import { registerCommands } from "./commands";
import { HeadsPanels } from "./headsPanels";
import { HeadTreeProvider } from "./headTree";
import { hoverSelector, TokenHoverProvider } from "./hover";
import { EngineStatus } from "./engineStatus";
import { CudaSetup, INSTALL_CUDA } from "./cudaSetup";
import { commandRegistrar } from "./register";
import { HoverContext } from "./hoverContext";
import { ModelRegistry } from "./modelRegistry";
import { PAGES } from "./pages";
import { restoredModel } from "./pickers";
import type { Services } from "./services";
import { affects, readSettings, writeReportSettings } from "./settings";
import { ENGINE_KEYS, RESULT_KEYS } from "./settingValues";
import { registerWalkthrough } from "./walkthrough";
import { registerRestore } from "./webviewHost";
import { PanelState } from "../../protocol/headsPanel";

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("Head Lens", { log: true });
  const reportError = (what: string, e: unknown) => {
    const msg = errorMessage(e);
    log.error(`${what}: ${msg}`);
    if (e instanceof Error && e.stack && !isHeadLensError(e)) log.debug(e.stack);
    // Errors name models, files and tokens: no link of the message may come from them.
    void vscode.window
      .showErrorMessage(notificationText(`Head Lens: ${what}: ${msg.split("\n")[0]}`), "Show Details")
      .then((pick) => pick && log.show(true));
  };

  let client: EngineClient | undefined;
  const restartEngine = () => {
    const old = client;
    client = undefined;
    void old?.dispose();
  };
  const cuda = new CudaSetup(context.globalStorageUri.fsPath, log, restartEngine);
  const engine = () => {
    if (client) return client;
    const { epPreference, blockBytes } = readSettings().engine;
    const { epPreference: eps, ortRoot } = cuda.providers(epPreference);
    return (client = new EngineClient({
      epPreference: eps,
      ortRoot,
      blockBytes,
      mediaDir: vscode.Uri.joinPath(context.extensionUri, "media").fsPath,
      workerPath: vscode.Uri.joinPath(context.extensionUri, "dist", "worker.js").fsPath,
      cacheDir: vscode.Uri.joinPath(context.globalStorageUri, "results").fsPath,
      threads: availableParallelism(),
      log: (m, warning) => {
        if (!warning) return log.info(m);
        log.warn(m);
        cuda.engineWarning(m);
      },
    }));
  };

  const registry = new ModelRegistry(
    vscode.Uri.joinPath(context.extensionUri, "models").fsPath,
    context.globalState,
    vscode.Uri.joinPath(context.globalStorageUri, "converted").fsPath,
    engine,
  );
  const analysis = new AnalysisService({
    engine,
    log,
    progress: notificationProgress,
    engineSettings: () => ({ strategy: readSettings().strategy, epPreference: readSettings().engine.epPreference }),
  });
  const tree = new HeadTreeProvider(registry, analysis);
  const treeView = vscode.window.createTreeView("headLens.models", { treeDataProvider: tree, showCollapseAll: true });
  const hoverContext = new HoverContext(registry, context.workspaceState);
  const heads = new HeadsPanels({
    extensionUri: context.extensionUri,
    analysis,
    hoverContext,
    log,
    reportError,
    reportSettings: () => readSettings().report,
    writeReportSettings,
  });

  const engineStatus = new EngineStatus(analysis);
  const s: Services = { context, log, registry, engine, analysis, heads, treeView, hoverContext, engineStatus, reportError };
  // Selecting a head in the tree makes it the editor's context (status bar, hover, attention highlights).
  const treeSelection = treeView.onDidChangeSelection((e) => {
    const n = e.selection[0];
    if (n?.kind === "head" && n.model.config) hoverContext.set(n.model, { layer: n.layer, head: n.head });
  });

  // A settings change (several keys at once from the panel's Apply) or an edit of the prior's
  // words file: every panel re-runs its heads under what is now displayed.
  const settingsChanged = debounced(150, () => heads.refreshAll().catch((e) => reportError("refresh after a settings change", e)));
  let priorWatcher: vscode.Disposable | undefined;
  const watchPrior = () => {
    priorWatcher?.dispose();
    priorWatcher = undefined;
    const prior = readSettings().report.prior;
    if (typeof prior === "string" || !isAbsolute(prior.wordsFile)) return;
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dirname(prior.wordsFile)), basename(prior.wordsFile)),
    );
    const changed = () => {
      tree.refresh();
      settingsChanged.schedule();
    };
    priorWatcher = vscode.Disposable.from(w, w.onDidChange(changed), w.onDidCreate(changed), w.onDidDelete(changed));
  };
  watchPrior();
  context.subscriptions.push(
    log,
    treeView,
    engineStatus,
    treeSelection,
    hoverContext,
    heads,
    vscode.languages.registerHoverProvider(hoverSelector(), new TokenHoverProvider(hoverContext, engine, log)),
    registerRestore<PanelState>(
      PAGES.heads,
      async (panel, state) => {
        const model = await restoredModel(s, panel, state?.model?.id);
        if (model) await heads.restore(panel, model, state);
      },
      (e) => reportError("restore the heads panel", e),
    ),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (affects(e, ...ENGINE_KEYS)) restartEngine();
      if (affects(e, "modelFolders")) void registry.refresh();
      if (affects(e)) tree.refresh();
      if (affects(e, ...RESULT_KEYS)) {
        watchPrior();
        settingsChanged.schedule();
      }
    }),
    { dispose: () => priorWatcher?.dispose() },
    { dispose: () => void client?.dispose() },
  );
  registerCommands(s);
  commandRegistrar(s)(INSTALL_CUDA, () => cuda.offer(true));
  registerCircuitCommands(s);
  const attention = registerAttention(s);
  registerWalkthrough(s, attention);
  registerPatching(s, attention);
  registerTimeline(s);
}

/** VS Code's progress notification, opened when work starts (a cached answer opens none). */
const notificationProgress: ProgressUi = (title, cancel) => {
  let done!: () => void;
  let report: ((increment: number, message: string) => void) | undefined;
  const finished = new Promise<void>((r) => (done = r));
  const progressTitle = notificationText(title); // names a model
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: progressTitle, cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(cancel);
      report = (increment, message) => progress.report({ increment, message: notificationText(message) });
      return finished;
    },
  );
  return { report: (increment, message) => report?.(increment, message), done };
};

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
