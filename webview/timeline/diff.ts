/**
 * Two checkpoints compared: pick them in the two lists (or "Compare from / to here" on a point);
 * the page shows the badges gained, lost or changed between them and the heads whose metrics moved
 * most (src/core/timelineFigures.ts computes both).
 */
import { headName } from "../../src/core/heads";
import { TRAITS } from "../../src/core/headTraits";
import { checkpointDiff, formatLabel, TIMELINE_METRIC_KEYS } from "../../src/core/timelineFigures";
import type { TimelineCheckpoint } from "../../src/protocol/timeline";
import { el } from "../shared/dom";

/** Heads listed under "moved most". */
const MOVED = 8;

export class DiffView {
  readonly element: HTMLElement;
  private readonly from = el("select", { id: "diff-from" });
  private readonly to = el("select", { id: "diff-to" });
  private readonly body = el("div", { class: "diff-body", "aria-live": "polite" });
  private checkpoints: TimelineCheckpoint[] = [];
  private xLabel = "steps";

  constructor() {
    this.element = el(
      "section",
      { class: "diff", "aria-labelledby": "diff-title" },
      el("h2", { id: "diff-title" }, "Compare two checkpoints"),
      el(
        "div",
        { class: "diff-pick" },
        el("label", { for: "diff-from" }, "From"),
        this.from,
        el("label", { for: "diff-to" }, "to"),
        this.to,
      ),
      this.body,
    );
    this.from.addEventListener("change", () => this.render());
    this.to.addEventListener("change", () => this.render());
  }

  reset(xLabel: string): void {
    this.xLabel = xLabel;
    this.checkpoints = [];
    this.from.replaceChildren();
    this.to.replaceChildren();
    this.render();
  }

  /** New checkpoints: the lists grow; a choice made stays, else from = the first and to = the last. */
  update(checkpoints: TimelineCheckpoint[]): void {
    const [a, b] = [this.from.value, this.to.value];
    const lastWasChosen = !b || b === String(this.checkpoints.at(-1)?.label);
    this.checkpoints = checkpoints;
    const options = () => checkpoints.map((c) => el("option", { value: String(c.label) }, `${formatLabel(c.label)} ${this.xLabel}`));
    this.from.replaceChildren(...options());
    this.to.replaceChildren(...options());
    this.from.value = a || String(checkpoints[0]?.label ?? "");
    this.to.value = lastWasChosen ? String(checkpoints.at(-1)?.label ?? "") : b;
    this.render();
  }

  /** "Compare from here" / "to here" on a point. */
  set(which: "from" | "to", label: number): void {
    (which === "from" ? this.from : this.to).value = String(label);
    this.render();
    this.element.scrollIntoView({ block: "nearest" });
  }

  private render(): void {
    const find = (v: string) => this.checkpoints.find((c) => String(c.label) === v);
    const [a, b] = [find(this.from.value), find(this.to.value)];
    if (!a || !b || a === b) {
      this.body.replaceChildren(
        el("p", { class: "meta" }, this.checkpoints.length < 2 ? "Two checkpoints are needed." : "Pick two different checkpoints."),
      );
      return;
    }
    const d = checkpointDiff(a, b);
    Object.assign(this.body.dataset, { from: String(d.from), to: String(d.to) });
    const at = (x: number) => `${formatLabel(x)} ${this.xLabel}`;
    const badgeText = (x?: { label: string; score: number }) => (x ? `${x.label} ${x.score.toFixed(2)}` : "no badge");
    const badges = d.badges.length
      ? el(
          "ul",
          { class: "badge-changes" },
          ...d.badges.map((c) =>
            el(
              "li",
              { "data-head": headName(c.head.layer, c.head.head), "data-kind": c.kind },
              el("strong", {}, headName(c.head.layer, c.head.head)),
              ` ${c.kind}: ${badgeText(c.before)} → ${badgeText(c.after)}`,
            ),
          ),
        )
      : el("p", { class: "meta" }, "No head gained or lost a badge.");
    const metrics = TIMELINE_METRIC_KEYS.filter((k) => d.moved.some((m) => m.delta[k] !== undefined));
    const title = (k: string) => TRAITS.find((t) => t.key === k)!.label;
    const moved = el(
      "table",
      { class: "moved" },
      el("caption", {}, `Heads whose metrics moved most, ${at(d.from)} → ${at(d.to)} (change in each metric)`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "head"), ...metrics.map((k) => el("th", { scope: "col" }, title(k))))),
      el(
        "tbody",
        {},
        ...d.moved.slice(0, MOVED).map((m) =>
          el(
            "tr",
            { "data-head": headName(m.head.layer, m.head.head) },
            el("th", { scope: "row" }, headName(m.head.layer, m.head.head)),
            ...metrics.map((k) => {
              const v = m.delta[k];
              const cell = el(
                "td",
                { "data-metric": k, "data-value": v === undefined ? "" : String(v) },
                v === undefined ? "–" : signed(v),
              );
              if (k === m.metric) cell.classList.add("largest");
              return cell;
            }),
          ),
        ),
      ),
    );
    this.body.replaceChildren(el("h3", {}, `Badges, ${at(d.from)} → ${at(d.to)}`), badges, moved);
  }
}

/** "+0.773", "−0.034", and "0.000" for a change that rounds to nothing. */
const signed = (x: number) => (Math.abs(x) < 5e-4 ? "0.000" : `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`);
