/**
 * Sidebar tree: models -> layers -> heads, with analyzed heads described from the cache.
 * Descriptions stay short enough for the default sidebar width; the figures are in tooltips.
 */
import * as vscode from "vscode";
import { headKey, headName } from "../../core/heads";
import { markdownText } from "../../core/markdownText";
import { fmt2 } from "../../core/reportText";
import { cutToken, SHORT_TOKEN_CHARS } from "../../core/tokenDisplay";
import { HeadResult } from "../../protocol/engine";
import { ANALYZE_HEAD } from "./commandIds";
import { metricsTooltip, traitBadge } from "./badges";
import { AnalysisService } from "./analysisService";
import { ModelEntry, modelName, modelShape } from "./modelEntry";
import { ModelRegistry } from "./modelRegistry";
import { readSettings } from "./settings";

export type TreeNode =
  | { kind: "model"; model: ModelEntry }
  | { kind: "layer"; model: ModelEntry; layer: number }
  | { kind: "head"; model: ModelEntry; layer: number; head: number };

export class HeadTreeProvider implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Heads' results seen since the last refresh (the description of an analyzed head). */
  private known = new Map<string, HeadResult>();
  /** Models whose metrics, and heads whose cached result, were asked for since the last refresh:
   * a re-render (one per streamed head) asks the engine nothing new. */
  private asked = new Set<string>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly analysis: AnalysisService,
  ) {
    registry.onDidChange(() => this.refresh()); // models listed again: new entries, maybe new files
    analysis.listen({
      head: (model, h) => {
        if (h.report.via) return; // a path's result says nothing about the head's direct path
        this.known.set(key(model.id, h.report.layer, h.report.head), h);
        this.changed.fire(undefined);
      },
      // New metrics for a model (a change of its files included): its badges change.
      metrics: () => this.changed.fire(undefined),
    });
  }

  refresh(): void {
    this.known.clear();
    this.asked.clear();
    this.changed.fire(undefined);
  }

  async getChildren(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) {
      await this.registry.ready; // the engine is still checking the model folders
      return this.registry.list().map((model) => ({ kind: "model", model }));
    }
    const shape = modelShape(node.model);
    if (!shape) return [];
    if (node.kind === "model") {
      // Badges need the model's metrics: asked for when it is expanded, never at activation; the
      // analysis service answers from the worker's cache and does not repeat a failure.
      if (node.model.config && !this.asked.has(node.model.id)) {
        this.asked.add(node.model.id);
        this.analysis.metrics(node.model).catch(() => this.changed.fire(undefined)); // the tooltips say why
      }
      return Array.from({ length: shape.layers }, (_, layer) => ({ kind: "layer", model: node.model, layer }));
    }
    if (node.kind === "layer")
      return Array.from({ length: shape.heads }, (_, head) => ({ kind: "head", model: node.model, layer: node.layer, head }));
    return [];
  }

  getParent(node: TreeNode): TreeNode | undefined {
    if (node.kind === "head") return { kind: "layer", model: node.model, layer: node.layer };
    if (node.kind === "layer") return { kind: "model", model: node.model };
    return undefined;
  }

  async getTreeItem(node: TreeNode): Promise<vscode.TreeItem> {
    if (node.kind === "model") {
      const m = node.model;
      const item = new vscode.TreeItem(
        modelName(m),
        modelShape(m) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
      );
      item.id = m.id;
      item.contextValue = m.source === "folder" ? "model.folder" : "model";
      if (m.hub && !m.config) {
        item.description = "not downloaded";
        item.tooltip = `${m.hub.repo} on the Hugging Face hub: ${shapeText(m.hub.layers, m.hub.heads, m.hub.dVocab)}. Analyzing a head offers the download.`;
        item.iconPath = new vscode.ThemeIcon("cloud-download");
        item.accessibilityInformation = { label: `${modelName(m)}, not downloaded, ${shapeText(m.hub.layers, m.hub.heads, m.hub.dVocab)}` };
      } else if (m.config) {
        const c = m.config;
        item.description = `${m.hub ? "ready · " : ""}${c.n_layers}L × ${c.n_heads}H`;
        const dims = `d_model ${c.d_model}, d_head ${c.d_head}, n_ctx ${c.n_ctx}`;
        const kind = `${c.normalization_type ?? "no"} norm, ${c.positional_embedding_type} positions, tokenizer ${c.tokenizer_name}`;
        item.tooltip = `${modelName(m)}: ${shapeText(c.n_layers, c.n_heads, c.d_vocab)}\n${m.dir}\n${dims}, ${kind}`;
        item.iconPath = new vscode.ThemeIcon(m.source === "bundled" ? "package" : m.source === "hub" ? "cloud" : "folder");
        item.accessibilityInformation = {
          label: `${modelName(m)}, ${m.hub ? "ready, " : ""}${shapeText(c.n_layers, c.n_heads, c.d_vocab)}`,
        };
      } else {
        // Broken: marked in red, the reason in the tooltip; analysis refuses it with the same reason.
        item.accessibilityInformation = { label: `${modelName(m)}, broken, cannot be loaded: ${m.error}` };
        item.description = "broken";
        const md = new vscode.MarkdownString();
        md.appendMarkdown("**Cannot be loaded**\n\n");
        md.appendMarkdown(`${markdownText(m.error ?? "unknown error")}\n\n${markdownText(m.dir)}`);
        item.tooltip = md;
        item.iconPath = new vscode.ThemeIcon("error", new vscode.ThemeColor("list.errorForeground"));
      }
      return item;
    }
    if (node.kind === "layer") {
      const item = new vscode.TreeItem(`Layer ${node.layer}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `${node.model.id}/L${node.layer}`;
      item.contextValue = "layer";
      item.accessibilityInformation = { label: `Layer ${node.layer}` };
      return item;
    }
    const name = headName(node.layer, node.head);
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.None);
    item.id = `${node.model.id}/L${node.layer}H${node.head}`;
    item.contextValue = "head";
    item.command = { command: ANALYZE_HEAD, title: "Analyze Head", arguments: [node] };
    const k = key(node.model.id, node.layer, node.head);
    let shown = this.known.get(k);
    if (!shown && node.model.config && !this.asked.has(k)) {
      this.asked.add(k);
      shown = await this.analysis.cached(node.model, readSettings().report, node).catch(() => undefined);
      if (shown) this.known.set(k, shown);
    }
    const metrics = this.analysis.knownMetrics(node.model);
    const failure = this.analysis.metricsFailure(node.model);
    const badge = metrics && traitBadge(metrics, node.layer, node.head);
    if (shown && shown.report.keys.length) {
      const top = shown.report.keys[0];
      // The badge, when the head has one, is the description; the top key is in the tooltip.
      item.description = badge?.text ?? `${short(top.token)} → ${short(top.outputs[0]?.token ?? "?")}`;
      const md = new vscode.MarkdownString();
      if (metrics) md.appendMarkdown(metricsTooltip(metrics, node.layer, node.head, node.model.config!.d_model) + "\n\n---\n\n");
      md.appendMarkdown(`**${name}** (${shown.report.ep}, ${(shown.elapsedMs / 1000).toFixed(2)} s) · top key → its top output\n\n`);
      // Token strings are model text: escaped, never Markdown (markdownText.ts says why not code spans).
      for (const k of shown.report.keys) {
        md.appendMarkdown(
          `- key ${markdownText(k.token)} · importance ${k.importance.toPrecision(3)} · maxQK ${fmt2(k.maxQK)} · maxOV ${fmt2(k.maxOV)} · ` +
            `top output ${markdownText(k.outputs[0]?.token ?? "—")}\n`,
        );
      }
      item.tooltip = md;
      item.iconPath = new vscode.ThemeIcon("pass");
      item.accessibilityInformation = {
        label: `${name}, analyzed,${badge ? ` ${badge.text},` : ""} top key ${top.token} → ${top.outputs[0]?.token ?? "?"}`,
      };
    } else {
      if (badge) item.description = badge.text;
      if (metrics) {
        const md = new vscode.MarkdownString(metricsTooltip(metrics, node.layer, node.head, node.model.config!.d_model));
        md.appendMarkdown(`\n\n${name}: not analyzed yet. Click to analyze.`);
        item.tooltip = md;
      } else item.tooltip = `${name}: not analyzed yet. Click to analyze.${failure ? `\n\nHead metrics unavailable: ${failure}` : ""}`;
      item.accessibilityInformation = { label: `${name}, ${badge ? `${badge.text}, ` : ""}not analyzed` };
      item.iconPath = new vscode.ThemeIcon("circle-large-outline");
    }
    return item;
  }
}

const key = (model: string, layer: number, head: number) => `${model}|${headKey({ layer, head })}`;

const shapeText = (layers: number, heads: number | undefined, vocab?: number) =>
  `${layers} layer${layers === 1 ? "" : "s"}${heads ? `, ${heads} heads` : ""}${vocab ? `, vocabulary ${vocab.toLocaleString("en-US")}` : ""}`;

/** A token display cut for the sidebar (the tooltip has it whole). */
const short = (t: string) => cutToken(t, SHORT_TOKEN_CHARS);
