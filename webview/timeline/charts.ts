/**
 * The timeline's figures: one chart per metric (every head a line, in its colour: shared/headColors.ts),
 * the strongest K-composition pairs, each figure with the same numbers as a table; and the legend of
 * heads that shows or hides a head's line in every chart at once.
 */
import { headName } from "../../src/core/heads";
import { TRAITS, TraitKey } from "../../src/core/headTraits";
import { formatLabel, strongestPairs, TIMELINE_METRIC_KEYS } from "../../src/core/timelineFigures";
import type { TimelineCheckpoint } from "../../src/protocol/timeline";
import { contrast, isDarkTheme, parse, RGB } from "../shared/colors";
import { el } from "../shared/dom";
import { headStyle, pageBackground } from "../shared/headColors";
import { ChartTheme, LineChart, LineSeries } from "./lineChart";
import { figureTable } from "./tables";

/** The strongest K-composition pairs charted. */
const PAIRS = 6;

export interface ChosenPoint {
  label: number;
  /** The head the point is of (for a pair: the later head, which reads). */
  head: { layer: number; head: number };
  /** What the point is, in words ("L1H0 at 1.2k steps"). */
  title: string;
  figure: HTMLElement;
  chart: HTMLElement;
  anchor: { x: number; y: number };
}

interface Figure {
  key: TraitKey | "kComposition";
  element: HTMLElement;
  chart: LineChart;
  table: HTMLDetailsElement;
  series: LineSeries[];
  /** The pairs chart's key (its lines are pairs, not heads: the heads legend does not name them). */
  pairKey?: HTMLElement;
}

const traitLabel = (k: TraitKey) => TRAITS.find((t) => t.key === k)!.label;

export class TimelineCharts {
  readonly element = el("div", { class: "figures" });
  readonly legend = el("div", { class: "legend", role: "group", "aria-label": "Heads shown in the charts" });
  private figures: Figure[] = [];
  private checkpoints: TimelineCheckpoint[] = [];
  private xLabel = "steps";
  private hidden = new Set<string>();
  private theme = chartTheme();

  constructor(private readonly events: { choose(p: ChosenPoint): void; drawn(): void }) {}

  /** A new run: no figures until its first checkpoint. */
  reset(xLabel: string): void {
    this.xLabel = xLabel;
    this.checkpoints = [];
    this.figures = [];
    this.element.replaceChildren();
    this.legend.replaceChildren();
  }

  get labels(): number[] {
    return this.checkpoints.map((c) => c.label);
  }

  /** The figures as they stand after `checkpoints` (ascending labels). */
  update(checkpoints: TimelineCheckpoint[]): void {
    this.checkpoints = checkpoints;
    if (!checkpoints.length) return;
    const metrics = TIMELINE_METRIC_KEYS.filter((k) => checkpoints.every((c) => c.heads.every((h) => typeof h[k] === "number")));
    const keys = [...metrics, "kComposition" as const];
    if (this.figures.map((f) => f.key).join() !== keys.join()) this.buildFigures(keys);
    const xs = this.labels;
    for (const f of this.figures) {
      f.series = f.key === "kComposition" ? this.pairSeries() : this.headSeries(f.key);
      f.chart.update(xs, f.series);
      if (f.pairKey) f.pairKey.replaceChildren(...f.series.map((p) => el("li", {}, swatch(p.color, p.dash), p.name)));
      if (f.table.open) f.table.querySelector(".table-body")!.replaceChildren(figureTable(f, xs, this.xLabel));
    }
  }

  setTheme(): void {
    this.theme = chartTheme();
    for (const f of this.figures) {
      f.series = f.key === "kComposition" ? this.pairSeries() : this.headSeries(f.key);
      f.chart.update(this.labels, f.series);
      f.chart.setTheme(this.theme);
      if (f.pairKey) f.pairKey.replaceChildren(...f.series.map((p) => el("li", {}, swatch(p.color, p.dash), p.name)));
    }
    this.buildLegend();
  }

  private heads(): { layer: number; head: number }[] {
    return [...(this.checkpoints[0]?.heads ?? [])].sort((a, b) => a.layer - b.layer || a.head - b.head);
  }

  private headSeries(metric: TraitKey): LineSeries[] {
    const bg = pageBackground(isDarkTheme());
    return this.heads().map(({ layer, head }) => {
      const style = headStyle(layer, head, bg, isDarkTheme());
      const values = this.checkpoints.map((c) => c.heads.find((h) => h.layer === layer && h.head === head)?.[metric] ?? null);
      return { key: `${layer}:${head}`, name: headName(layer, head), color: style.color, dash: style.dash, values };
    });
  }

  /** The pairs get their own hues (a pair is no head): categorical in rank order, solid. */
  private pairSeries(): LineSeries[] {
    const bg = pageBackground(isDarkTheme());
    return strongestPairs(this.checkpoints, "k", PAIRS).map((p, rank) => ({
      key: `${p.from.layer}.${p.from.head}>${p.to.layer}.${p.to.head}`,
      name: p.name,
      color: headStyle(0, rank, bg, isDarkTheme()).color,
      dash: [],
      values: p.scores.map((x) => (Number.isFinite(x) ? x : null)),
    }));
  }

  private buildFigures(keys: Figure["key"][]): void {
    this.figures = keys.map((key) => {
      const isPair = key === "kComposition";
      const title = isPair ? `Strongest K-composition pairs (top ${PAIRS} by peak)` : TRAITS.find((t) => t.key === key)!.title;
      const meaning = isPair
        ? "How much each later head's keys read what the earlier head writes (TransformerLens's composition score)."
        : TRAITS.find((t) => t.key === key)!.meaning;
      const label = isPair ? "K-composition" : traitLabel(key);
      const y: [number, number] | undefined = key === "copying" ? [-1, 1] : isPair ? undefined : [0, 1];
      const figure: Partial<Figure> = { key, series: [] };
      const chart = new LineChart(
        { label, xLabel: this.xLabel, ...(y ? { y } : {}) },
        {
          describe: (s, i) => this.describe(key, s, i),
          choose: (s, i, anchor) => this.choose(figure as Figure, s, i, anchor),
          drawn: () => this.events.drawn(),
        },
        this.theme,
      );
      const table = el(
        "details",
        { class: "figure-table" },
        el("summary", {}, "The figures as a table"),
        el("div", { class: "table-body" }),
      );
      table.addEventListener("toggle", () => {
        if (table.open) table.querySelector(".table-body")!.replaceChildren(figureTable(figure as Figure, this.labels, this.xLabel));
      });
      const pairKey = isPair ? el("ul", { class: "pair-key", "aria-label": "The pairs' lines" }) : undefined;
      const element = el(
        "figure",
        { class: "metric", "data-metric": key },
        el("h2", {}, title),
        el("p", { class: "meta" }, meaning),
        ...(pairKey ? [pairKey] : []),
        chart.element,
        table,
      );
      Object.assign(figure, { element, chart, table, pairKey });
      return figure as Figure;
    });
    this.element.replaceChildren(...this.figures.map((f) => f.element));
    this.buildLegend();
    for (const f of this.figures) if (f.key !== "kComposition") f.chart.setHidden(this.hidden);
  }

  private describe(key: Figure["key"], s: LineSeries, i: number): string[] {
    const c = this.checkpoints[i];
    const at = `at ${formatLabel(c.label)} ${this.xLabel}`;
    if (key === "kComposition") return [`${s.name} ${at}`, `K-composition ${s.values[i]!.toFixed(3)}`];
    const h = c.heads.find((x) => `${x.layer}:${x.head}` === s.key)!;
    const order = [key, ...TIMELINE_METRIC_KEYS.filter((k) => k !== key)];
    return [`${s.name} ${at}`, ...order.filter((k) => typeof h[k] === "number").map((k) => `${traitLabel(k)} ${h[k]!.toFixed(3)}`)];
  }

  private choose(f: Figure, s: LineSeries, i: number, anchor: { x: number; y: number }): void {
    const label = this.checkpoints[i].label;
    const pair = /^\d+\.\d+>(\d+)\.(\d+)$/.exec(s.key);
    const [layer, head] = pair ? [Number(pair[1]), Number(pair[2])] : s.key.split(":").map(Number);
    const title = `${s.name} at ${formatLabel(label)} ${this.xLabel}`;
    this.events.choose({ label, head: { layer, head }, title, figure: f.element, chart: f.chart.element, anchor });
  }

  /** One toggle per head (its colour and dash), and one to show them all. */
  private buildLegend(): void {
    const bg = pageBackground(isDarkTheme());
    const heads = this.heads();
    const buttons = heads.map(({ layer, head }) => {
      const key = `${layer}:${head}`;
      const style = headStyle(layer, head, bg, isDarkTheme());
      const b = el(
        "button",
        { type: "button", class: "head-toggle", "aria-pressed": String(!this.hidden.has(key)), "data-head": headName(layer, head) },
        swatch(style.color, style.dash),
        headName(layer, head),
      );
      b.title = `${headName(layer, head)}: ${style.dashName} line; click to ${this.hidden.has(key) ? "show" : "hide"} it in every chart`;
      b.addEventListener("click", () => {
        if (this.hidden.has(key)) this.hidden.delete(key);
        else this.hidden.add(key);
        this.applyHidden();
      });
      return b;
    });
    const all = el("button", { type: "button", class: "link" }, "Show all");
    all.addEventListener("click", () => ((this.hidden = new Set()), this.applyHidden()));
    this.legend.replaceChildren(el("span", { class: "meta" }, "Heads:"), ...buttons, all);
  }

  private applyHidden(): void {
    for (const f of this.figures) if (f.key !== "kComposition") f.chart.setHidden(this.hidden);
    this.buildLegend();
  }
}

/** A short line in the head's colour and dash (SVG attributes: no inline style for the CSP to refuse). */
function swatch(color: string, dash: number[]): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ width: "26", height: "10", "aria-hidden": "true", class: "swatch" })) svg.setAttribute(k, v);
  const line = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: "1", y1: "5", x2: "25", y2: "5", stroke: color, "stroke-width": "2.5" }))
    line.setAttribute(k, v);
  if (dash.length) line.setAttribute("stroke-dasharray", dash.join(" "));
  svg.append(line);
  return svg;
}

/** The charts' colours from the theme: text in the foreground, grid lines faint but visible (stronger in high contrast). */
function chartTheme(): ChartTheme {
  const cs = getComputedStyle(document.documentElement);
  const fgRaw = parse(cs.getPropertyValue("--vscode-foreground")) ?? [128, 128, 128, 1];
  const fg: RGB = [fgRaw[0], fgRaw[1], fgRaw[2]];
  const hc = document.body.classList.contains("vscode-high-contrast");
  const bg = pageBackground(isDarkTheme());
  const alpha = hc ? 0.45 : contrast(fg, bg) > 10 ? 0.16 : 0.22;
  const family = cs.getPropertyValue("--vscode-font-family").trim() || "sans-serif";
  return { fg: `rgb(${fg.join(" ")})`, grid: `rgba(${fg.join(", ")}, ${alpha})`, font: `12px ${family}` };
}
