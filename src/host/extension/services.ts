/**
 * What the extension's parts share, built once by activate (extension.ts, which nothing imports).
 * Only types here: the modules that provide a service never import this file, so the wiring has no
 * import circle (test/processBoundaries.test.ts).
 */
import type * as vscode from "vscode";
import type { EngineClient } from "../engineClient";
import type { AnalysisService } from "./analysisService";
import type { EngineStatus } from "./engineStatus";
import type { HeadsPanels } from "./headsPanels";
import type { HoverContext } from "./hoverContext";
import type { ModelRegistry } from "./modelRegistry";
import type { TreeNode } from "./headTree";

export interface Services {
  context: vscode.ExtensionContext;
  /** Timestamped, levelled log ("Head Lens" output channel). */
  log: vscode.LogOutputChannel;
  registry: ModelRegistry;
  /** A getter: the client is replaced when the engine settings change. */
  engine: () => EngineClient;
  analysis: AnalysisService;
  /** Opens heads (or paths of heads) in their model's heads panel. */
  heads: HeadsPanels;
  treeView: vscode.TreeView<TreeNode>;
  /** The editor's model and head: the status bar's item, the hover and the attention highlights follow it. */
  hoverContext: HoverContext;
  /** The engine's status-bar item (provider, what ran last and how long). */
  engineStatus: EngineStatus;
  /** One notification per failure, details in the log. */
  reportError(what: string, e: unknown): void;
}
