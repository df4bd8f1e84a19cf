/**
 * The editor's model context: the one model and head the editor describes — the hover tokenizes
 * with it and describes the head, the attention highlights show only while it is the attention
 * panel's model (attentionController.ts). Explicit and visible (a status-bar item, "Head Lens:
 * demo-attn-2l · L1H0"), it follows the panel the user last worked in — analyzing a head or layer,
 * working in a head of a heads panel, selecting a head in the tree, running the attention panel,
 * changing its model or choosing its head — or a pick from the item; remembered per workspace, so
 * closing a panel never switches it silently. Every one of those reads and writes this one object,
 * so the editor never describes two models at once.
 */
import * as vscode from "vscode";
import { iconText } from "../../core/markdownText";
import { cutToken } from "../../core/tokenDisplay";
import { allHeads, headName, HeadRef } from "../../core/heads";
import { PICK_HOVER_CONTEXT } from "./commandIds";
import { ModelEntry, modelName } from "./modelEntry";
import { ModelRegistry } from "./modelRegistry";

const STATE_KEY = "headLens.hoverContext";

interface Saved {
  model: string;
  head?: HeadRef;
}

export interface HoverTarget {
  model: ModelEntry;
  head?: HeadRef;
}

export class HoverContext implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private saved: Saved | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly memento: vscode.Memento,
  ) {
    this.saved = memento.get<Saved>(STATE_KEY);
    this.item = vscode.window.createStatusBarItem("headLens.hoverContext", vscode.StatusBarAlignment.Right, 101);
    this.item.name = "Head Lens: the editor's model and head";
    this.item.command = PICK_HOVER_CONTEXT;
    this.subscription = registry.onDidChange(() => this.update());
    this.update();
  }

  /** The model and head hovers speak for; a model that is gone or broken falls back to the first usable one. */
  current(): HoverTarget | undefined {
    const chosen = this.saved && this.registry.get(this.saved.model);
    if (chosen?.config) {
      const h = this.saved!.head;
      const fits = h && h.layer < chosen.config.n_layers && h.head < chosen.config.n_heads;
      return { model: chosen, head: fits ? h : undefined };
    }
    const first = this.registry.list().find((m) => m.config);
    return first && { model: first };
  }

  /** Whether the context is model `modelId` with head `head` (the attention highlights describe only that). */
  is(modelId: string | undefined, head: HeadRef | undefined): boolean {
    const ctx = this.current();
    return modelId !== undefined && ctx?.model.id === modelId && ctx.head?.layer === head?.layer && ctx.head?.head === head?.head;
  }

  set(model: ModelEntry, head?: HeadRef): void {
    const next: Saved = { model: model.id, head: head && { layer: head.layer, head: head.head } };
    if (this.saved?.model === next.model && this.saved.head?.layer === next.head?.layer && this.saved.head?.head === next.head?.head)
      return;
    this.saved = next;
    void this.memento.update(STATE_KEY, next);
    this.update();
    this.changed.fire();
  }

  /** "demo-attn-2l · L1H0" (or "· no head"). */
  label(t = this.current()): string {
    if (!t) return "no model";
    return `${modelName(t.model)} · ${t.head ? headName(t.head.layer, t.head.head) : "no head"}`;
  }

  /** Quick picks: a model, then one of its heads (or none: tokens only). */
  async pick(): Promise<void> {
    const now = this.current();
    const models = this.registry.list().filter((m) => m.config);
    if (!models.length) {
      void vscode.window.showWarningMessage("Head Lens: no usable model to describe tokens with. Add a model folder first.");
      return;
    }
    const m = await vscode.window.showQuickPick(
      models.map((model) => ({
        label: iconText(modelName(model)),
        model,
        description: model.id === now?.model.id ? "current" : `${model.config!.n_layers}L × ${model.config!.n_heads}H`,
      })),
      { title: "Head Lens: the editor's model", placeHolder: "The model editor hovers and attention highlights describe" },
    );
    if (!m) return;
    const c = m.model.config!;
    const heads = allHeads(c.n_layers, c.n_heads);
    const h = await vscode.window.showQuickPick(
      [
        ...heads.map((ref) => ({ label: headName(ref.layer, ref.head), ref })),
        { label: "No head", description: "tokens and priors only", ref: undefined },
      ],
      { title: `Head Lens hover: head of ${modelName(m.model)}`, placeHolder: "The head editor hovers describe the token in" },
    );
    if (!h) return;
    this.set(m.model, h.ref);
  }

  private update(): void {
    const t = this.current();
    this.item.text = `$(telescope) Head Lens: ${iconText(cutToken(this.label(t)))}`; // a 5 000-character model name stays one item
    this.item.tooltip = t
      ? `Editor hovers tokenize with ${modelName(t.model)}` +
        `${t.head ? ` and show what the token does in ${headName(t.head.layer, t.head.head)}` : ""}; ` +
        `attention highlights show only this model. It follows the Head Lens panel you last worked in. Click to change.`
      : "Head Lens: no usable model";
    this.item.accessibilityInformation = { label: `Head Lens hover context: ${this.label(t)}. Click to change.` };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
    this.changed.dispose();
  }
}
