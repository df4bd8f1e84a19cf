/**
 * The ablated run against its baseline: the bar that says what is ablated (with "Restore model"), the
 * loss of the text before → after, the view the patterns are drawn in (ablated, baseline, difference),
 * and each token's change in the log-prob the model gave it (colours for the token strip).
 */
import type { NextTokenFit } from "../../src/protocol/attention";
import type { HeadAblation } from "../../src/protocol/whatIf";
import { chipColor, Palette } from "../shared/colors";
import { el } from "../shared/dom";
import type { CompareView } from "./headGrid";

/** Mean −log p of the actual next tokens (the text's loss, as TransformerLens's lm loss); undefined: no next token. */
export function textLoss(next: readonly (NextTokenFit | null)[]): number | undefined {
  let sum = 0,
    n = 0;
  for (const x of next)
    if (x) {
      sum -= x.logProb;
      n++;
    }
  return n ? sum / n : undefined;
}

/** Each token's background by the change in its log-prob (as the next token of the one before it), and its words. */
export function deltaColors(
  ablated: readonly (NextTokenFit | null)[],
  baseline: readonly (NextTokenFit | null)[],
  p: Palette,
): { bg: string; title: string }[] {
  const d = ablated.map((a, t) => (a && baseline[t] ? a.logProb - baseline[t]!.logProb : undefined));
  const scale = Math.max(0, ...d.map((x) => Math.abs(x ?? 0)));
  const out = [{ bg: "", title: "" }]; // the first token is predicted by nothing
  d.forEach((x, t) => {
    const b = baseline[t];
    if (x === undefined || !b) return;
    const sign = x >= 0 ? "+" : "−";
    out[t + 1] = {
      bg: chipColor(p, x, scale),
      title: `log p of this token: ${b.logProb.toFixed(3)} → ${(b.logProb + x).toFixed(3)} (${sign}${Math.abs(x).toFixed(3)} under the ablation)`,
    };
  });
  return out;
}

export interface ComparisonCallbacks {
  restore(): void;
  view(v: CompareView): void;
}

export class ComparisonBar {
  readonly root: HTMLElement;
  private readonly what = el("strong", {});
  private readonly loss = el("span", { class: "loss" });
  private readonly radios: HTMLInputElement[];
  view: CompareView = "ablated";
  list: readonly HeadAblation[] = [];

  constructor(cb: ComparisonCallbacks) {
    const restore = el("button", { type: "button", class: "restore" }, "Restore model");
    restore.addEventListener("click", () => cb.restore());
    const views: [CompareView, string][] = [
      ["ablated", "Ablated"],
      ["baseline", "Baseline"],
      ["difference", "Difference (ablated − baseline)"],
    ];
    this.radios = views.map(([v]) => el("input", { type: "radio", name: "compare-view", id: `view-${v}`, value: v }));
    this.radios[0].checked = true;
    for (const r of this.radios)
      r.addEventListener("change", () => {
        if (!r.checked) return;
        this.view = r.value as CompareView;
        cb.view(this.view);
      });
    const fieldset = el(
      "fieldset",
      { class: "compare-view" },
      el("legend", {}, "Patterns show"),
      ...views.flatMap(([v, words], i) => [this.radios[i], el("label", { for: `view-${v}` }, words)]),
    );
    this.root = el(
      "section",
      { class: "ablation-bar", hidden: "", "aria-label": "Ablation" },
      el("p", {}, this.what, " ", restore),
      el("p", {}, this.loss),
      fieldset,
    );
  }

  get active(): boolean {
    return this.list.length > 0;
  }

  setList(list: readonly HeadAblation[], label: string): void {
    this.list = list;
    this.root.hidden = list.length === 0;
    this.what.textContent = `Ablated: ${label}. The panel shows the ablated run against the model as it is (the baseline).`;
    this.root.dataset.ablations = label;
    this.showLoss(undefined, undefined);
  }

  /** "Loss of the text: 5.601 → 10.714 (+5.113)"; undefined: still running. */
  showLoss(before: number | undefined, after: number | undefined): void {
    if (before === undefined || after === undefined) {
      this.loss.textContent = "Loss of the text (mean −log p of each next token): running the baseline…";
      delete this.loss.dataset.before;
      delete this.loss.dataset.after;
      return;
    }
    const d = after - before;
    this.loss.textContent =
      `Loss of the text (mean −log p of each next token): ${before.toFixed(3)} → ${after.toFixed(3)} ` +
      `(${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(3)})`;
    Object.assign(this.loss.dataset, { before: String(before), after: String(after) });
  }
}
