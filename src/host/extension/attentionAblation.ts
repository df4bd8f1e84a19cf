/**
 * Ablations on the attention panel's runs (issue #23). Which heads are ablated (one model's heads:
 * another model runs as it is), how that is said everywhere it applies — the panel's title, a
 * status-bar item whose one click restores the model, the editor highlights' label — and the
 * comparison: under an ablation the same text is also run on the model as it is (the baseline), and
 * the page shows the ablated run against it. Nothing outside the attention panel runs ablated.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { describeAblation } from "../../core/ablations";
import { headName, HeadRef } from "../../core/heads";
import { AttentionParams, AttentionResult, PatternPayload } from "../../protocol/attention";
import { HeadAblation, HeadInput } from "../../protocol/whatIf";
import type { AttentionPanel } from "./attentionPanel";
import type { Services } from "./services";

export const RESTORE_MODEL = "headLens.restoreModel";

const INPUTS: readonly HeadInput[] = ["q", "k", "v"];

/** "L0H3 zero, L0H1 mean into L1H0's keys" (core/ablations.ts's words). */
export function ablationLabel(list: readonly HeadAblation[]): string {
  return list.map(describeAblation).join(", ");
}

/** A page's list checked against the model's shape: one ablation per head, paths only into later heads. */
export function validAblations(list: unknown, nLayers: number, nHeads: number): HeadAblation[] {
  if (!Array.isArray(list)) return [];
  const inShape = (l: unknown, h: unknown) =>
    Number.isInteger(l) &&
    Number.isInteger(h) &&
    (l as number) >= 0 &&
    (l as number) < nLayers &&
    (h as number) >= 0 &&
    (h as number) < nHeads;
  const seen = new Set<string>();
  const out: HeadAblation[] = [];
  for (const a of list as HeadAblation[]) {
    if (!a || !inShape(a.layer, a.head) || (a.kind !== "zero" && a.kind !== "mean") || seen.has(`${a.layer}.${a.head}`)) continue;
    const i = a.into;
    if (i && (!inShape(i.layer, i.head) || i.layer <= a.layer || !INPUTS.includes(i.input))) continue;
    seen.add(`${a.layer}.${a.head}`);
    const base = { layer: a.layer, head: a.head, kind: a.kind };
    out.push(i ? { ...base, into: { layer: i.layer, head: i.head, input: i.input } } : base);
  }
  return out;
}

const TITLE = "Head Lens: Attention";

export class AttentionAblation implements vscode.Disposable {
  private list: HeadAblation[] = [];
  private modelId?: string;
  /** The comparison on screen: the ablated run and its baseline run (both kept by the worker). */
  private compared?: { ablatedRunId: string; baselineRunId: string };
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly s: Pick<Services, "engine" | "log">) {
    this.item = vscode.window.createStatusBarItem("headLens.ablation", vscode.StatusBarAlignment.Right, 102);
    this.item.name = "Head Lens ablation";
    this.item.command = RESTORE_MODEL;
  }

  /** The ablations a run of `modelId` is computed under ([]: another model, or none). */
  for(modelId: string | undefined): HeadAblation[] {
    return modelId !== undefined && modelId === this.modelId ? this.list : [];
  }

  /** The editor highlights' label says the run is ablated. */
  suffix(modelId: string | undefined): string {
    const list = this.for(modelId);
    return list.length ? ` (ablated: ${ablationLabel(list)})` : "";
  }

  /** Replaces the ablations (for `modelId`); says so in the title, the status bar and the page. */
  set(modelId: string | undefined, list: HeadAblation[], panel: AttentionPanel | undefined): void {
    this.list = list;
    this.modelId = modelId;
    this.compared = undefined;
    this.say(panel);
  }

  /** Says the current state (a new panel, another model: its runs are not ablated). */
  say(panel: AttentionPanel | undefined, modelId = this.modelId): void {
    // Another model's run: the last model's ablations are forgotten (its heads are not this model's).
    if (modelId !== this.modelId) this.set(modelId, [], undefined);
    const list = this.for(modelId);
    const label = ablationLabel(list);
    if (panel) {
      panel.host.panel.title = list.length ? `${TITLE} (ablated)` : TITLE;
      panel.post("ablations", { ablations: list, label });
    }
    this.item.text = `$(debug-disconnect) Ablated: ${list.length === 1 ? label : `${list.length} heads`}`;
    this.item.tooltip = `Head Lens runs the attention panel's text with ${label} ablated. Click to restore the model.`;
    this.item.accessibilityInformation = { label: `Head Lens: ablated ${label}. Restore model.`, role: "button" };
    if (list.length && panel) this.item.show();
    else this.item.hide();
  }

  /** Under an ablation: runs the same text on the model as it is and sends it to the page as the baseline. */
  async compare(
    panel: AttentionPanel,
    params: AttentionParams,
    ablated: AttentionResult,
    signal: AbortSignal,
    head: () => HeadRef | undefined,
  ): Promise<void> {
    this.compared = undefined;
    if (!params.ablations?.length) return;
    let patterns: PatternPayload | undefined;
    try {
      const base = await this.s.engine().attention({ ...params, ablations: [] }, { signal, onEvent: (e) => (patterns = e.patterns) });
      if (signal.aborted || !patterns) return;
      this.compared = { ablatedRunId: ablated.runId, baselineRunId: base.runId };
      panel.post("baseline", { runId: ablated.runId, baselineRunId: base.runId, patterns, top: base.top, next: base.next });
      const enlarged = head(); // the head enlarged now: the user may have chosen another during the baseline run
      if (enlarged) await this.pattern(panel, ablated.runId, enlarged);
    } catch (e) {
      if (!isCancelled(e) && !signal.aborted) this.s.log.warn(`attention baseline (for the ablation's comparison): ${errorMessage(e)}`);
    }
  }

  /** The enlarged head's pattern in the baseline run of the comparison with `ablatedRunId`, if any. */
  async pattern(panel: AttentionPanel, ablatedRunId: string, head: HeadRef): Promise<void> {
    const c = this.compared;
    if (!c || c.ablatedRunId !== ablatedRunId) return;
    try {
      const p = await this.s.engine().attentionPattern({ runId: c.baselineRunId, layer: head.layer, head: head.head });
      if (this.compared === c) panel.post("baselinePattern", { ...p, runId: ablatedRunId, baselineRunId: c.baselineRunId });
    } catch (e) {
      if (!isCancelled(e)) this.s.log.warn(`baseline pattern of ${headName(head.layer, head.head)}: ${errorMessage(e)}`);
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
