/**
 * One line chart of the timeline page: a value of every head (or composition pair) against the
 * checkpoint label, on a log axis that also holds label 0 (uPlot's arcsinh scale: linear below the
 * smallest positive label, logarithmic above it). Hover a line for its figures at that checkpoint,
 * click to choose the point; from the keyboard the chart is one stop: ←/→ move between checkpoints,
 * ↑/↓ to the next line above or below, Home/End, Enter chooses, and each move is announced.
 *
 * Why uPlot (weighed against Observable Plot and Vega-Lite for this page, bundled and minified by
 * esbuild, 2026-12): uPlot 1.6 adds 53 KB (23 KB gzipped) to the page; Observable Plot 0.6 with the
 * d3 it needs 294 KB (100 KB), Vega-Lite 6 + Vega 6 + the CSP-safe vega-interpreter 843 KB (294 KB).
 * It draws on a canvas — 64 lines × 200 points redraw in a few milliseconds, where Plot would build
 * 64 SVG paths plus a tip — and takes its colours as strings, so the theme's variables are read and
 * the charts redrawn on a theme change. It needs no eval (Vega does, without the interpreter) and
 * inserts no <style> element (Plot does, which this page's CSP blocks): styles are CSSOM properties,
 * which the CSP allows. A canvas says nothing to a screen reader, so the page adds what uPlot lacks:
 * the keyboard navigation and announcements here, and the same figures as tables (tables.ts).
 */
import uPlot from "uplot";
import { formatLabel, logSplits } from "../../src/core/timelineFigures";
import { el } from "../shared/dom";

export interface LineSeries {
  /** Stable across updates ("1:0", "0.3>1.0"). */
  key: string;
  name: string;
  color: string;
  dash: number[];
  /** One value per checkpoint (null: none). */
  values: (number | null)[];
}

export interface ChartSpec {
  /** What the y axis is ("induction"), for the labels and announcements. */
  label: string;
  /** A fixed y range, or undefined to fit the data. */
  y?: [number, number];
  /** "steps" or "tokens". */
  xLabel: string;
}

export interface ChartTheme {
  fg: string;
  grid: string;
  font: string;
}

export interface ChartEvents {
  /** The tooltip's lines for series `s` at checkpoint index `i` (the first is its title). */
  describe(s: LineSeries, i: number): string[];
  /** Series `s` at checkpoint `i` was clicked or chosen with Enter; `anchor`: the point, in the chart element's pixels. */
  choose(s: LineSeries, i: number, anchor: { x: number; y: number }): void;
  /** The chart drew (after an update). */
  drawn?(): void;
}

const HEIGHT = 230;

export class LineChart {
  /** The keyboard stop that holds the plot. */
  readonly element: HTMLElement;
  private plot?: uPlot;
  private xs: number[] = [];
  private series: LineSeries[] = [];
  private hidden = new Set<string>();
  /** The point under the pointer or the keyboard: checkpoint index, series index. */
  private at?: { i: number; s: number };
  private fromKeyboard = false;
  private readonly tip = el("div", { class: "chart-tip", hidden: "" });
  private readonly live = el("div", { class: "sr-only", role: "status", "aria-live": "polite" });

  constructor(
    private readonly spec: ChartSpec,
    private readonly events: ChartEvents,
    private theme: ChartTheme,
  ) {
    this.element = el("div", {
      class: "chart",
      tabindex: "0",
      role: "application",
      "aria-roledescription": "line chart",
      "aria-label": `${spec.label} against the checkpoint (${spec.xLabel}): arrow keys move between points, Enter opens one`,
    });
    this.element.addEventListener("keydown", (e) => this.onKey(e));
    this.element.addEventListener("blur", () => this.fromKeyboard && this.clear());
    new ResizeObserver(() => this.resize()).observe(this.element);
  }

  /** Number of checkpoints drawn. */
  get points(): number {
    return this.xs.length;
  }

  /** New data: the same lines are updated in place, other lines rebuild the plot. */
  update(xs: number[], series: LineSeries[]): void {
    const same = this.plot && series.length === this.series.length && series.every((s, k) => s.key === this.series[k].key);
    this.xs = xs;
    this.series = series;
    if (this.at && (this.at.i >= xs.length || this.at.s >= series.length)) this.at = undefined;
    if (same && !this.tooFewForPoints()) this.plot!.setData(this.data());
    else this.build();
    Object.assign(this.element.dataset, { points: String(xs.length), lines: String(series.length) });
  }

  setHidden(keys: Set<string>): void {
    this.hidden = keys;
    this.series.forEach((s, k) => this.plot?.setSeries(k + 1, { show: !keys.has(s.key) }));
  }

  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    this.build();
  }

  private data(): uPlot.AlignedData {
    return [this.xs, ...this.series.map((s) => s.values)] as uPlot.AlignedData;
  }

  /** Points are drawn as dots while they are few (the flag is fixed per plot: crossing it rebuilds). */
  private tooFewForPoints(): boolean {
    return this.plot !== undefined && this.plot.series[1]?.points?.show !== this.xs.length <= 40;
  }

  private build(): void {
    this.plot?.destroy();
    const { fg, grid, font } = this.theme;
    const positive = this.xs.filter((x) => x > 0);
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font, labelFont: font };
    const dots = this.xs.length <= 40;
    const opts: uPlot.Options = {
      width: Math.max(200, this.element.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      focus: { alpha: 0.25 },
      cursor: { drag: { x: false, y: false, setScale: false }, focus: { prox: -1 }, points: { size: 8 } },
      scales: {
        // arcsinh: log-like above the smallest positive label, linear (through 0) below it.
        x: { time: false, distr: 4, log: 10, asinh: positive.length ? Math.min(...positive) : 1 },
        y: this.spec.y ? { range: this.spec.y } : { auto: true },
      },
      axes: [
        {
          ...axis,
          label: this.spec.xLabel,
          labelSize: 22,
          splits: (_u, _i, min, max) => logSplits(min, max, positive.length ? Math.min(...positive) : 1),
          values: (_u, splits) => splits.map((v) => (v == null ? "" : formatLabel(v))),
        },
        { ...axis, size: 48, values: (_u, splits) => splits.map((v) => (v == null ? "" : Number(v.toFixed(3)).toString())) },
      ],
      series: [
        { label: this.spec.xLabel },
        ...this.series.map((s) => ({
          label: s.name,
          stroke: s.color,
          dash: s.dash,
          width: 1.75,
          spanGaps: true,
          show: !this.hidden.has(s.key),
          points: { show: dots, size: 5, fill: s.color, stroke: s.color },
        })),
      ],
      hooks: {
        setCursor: [(u) => this.onCursor(u)],
        draw: [() => this.events.drawn?.()],
      },
    };
    this.element.replaceChildren();
    this.plot = new uPlot(opts, this.data(), this.element);
    this.plot.over.append(this.tip);
    this.element.append(this.live);
    this.plot.over.addEventListener("mousemove", () => (this.fromKeyboard = false));
    this.plot.over.addEventListener("click", () => this.chooseAt());
  }

  private resize(): void {
    const w = Math.max(200, this.element.clientWidth);
    if (this.plot && Math.abs(this.plot.width - w) > 1) this.plot.setSize({ width: w, height: HEIGHT });
  }

  private visible(i: number): number[] {
    return this.series.flatMap((s, k) => (!this.hidden.has(s.key) && s.values[i] != null ? [k] : []));
  }

  /** The pointer moved: the nearest visible line at the nearest checkpoint (unless the keyboard holds a point). */
  private onCursor(u: uPlot): void {
    if (this.fromKeyboard && this.at) return this.show(this.at);
    const i = u.cursor.idx;
    if (i == null || (u.cursor.left ?? -1) < 0) return this.clear(false);
    let best = -1,
      dist = Infinity;
    for (const k of this.visible(i)) {
      const d = Math.abs(u.valToPos(this.series[k].values[i]!, "y") - (u.cursor.top ?? 0));
      if (d < dist) [best, dist] = [k, d];
    }
    if (best < 0) return this.clear(false);
    this.show({ i, s: best });
  }

  private show(at: { i: number; s: number }): void {
    const u = this.plot!;
    this.at = at;
    u.setSeries(at.s + 1, { focus: true }, false);
    const s = this.series[at.s];
    const lines = this.events.describe(s, at.i);
    this.tip.replaceChildren(...lines.map((l, k) => el(k === 0 ? "strong" : "div", {}, l)));
    this.tip.hidden = false;
    const x = u.valToPos(this.xs[at.i], "x"),
      y = u.valToPos(s.values[at.i]!, "y");
    // In the plot's corner across from the point, so that it never covers the line near the point.
    const [W, H] = [u.over.clientWidth, u.over.clientHeight];
    this.tip.style.left = `${x > W / 2 ? 6 : Math.max(0, W - this.tip.offsetWidth - 6)}px`;
    this.tip.style.top = `${y > H / 2 ? 6 : Math.max(0, H - this.tip.offsetHeight - 6)}px`;
    Object.assign(this.tip.dataset, { series: s.key, label: String(this.xs[at.i]) });
    if (this.fromKeyboard) this.live.textContent = lines.join("; ");
  }

  private clear(forget = true): void {
    this.tip.hidden = true;
    this.plot?.setSeries(null as unknown as number, { focus: true }, false);
    if (forget) {
      this.at = undefined;
      this.fromKeyboard = false;
    }
  }

  private chooseAt(): void {
    const u = this.plot;
    if (!u || !this.at) return;
    const { i, s } = this.at;
    const x = u.over.offsetLeft + u.valToPos(this.xs[i], "x"),
      y = u.over.offsetTop + u.valToPos(this.series[s].values[i]!, "y");
    this.events.choose(this.series[s], i, { x, y });
  }

  private onKey(e: KeyboardEvent): void {
    const u = this.plot;
    if (!u || !this.xs.length) return;
    let { i, s } = this.at ?? { i: this.xs.length - 1, s: -1 };
    const order = this.visible(i).sort((a, b) => this.series[a].values[i]! - this.series[b].values[i]!);
    if (!order.length) return;
    if (s < 0 || !order.includes(s)) s = order[order.length - 1];
    const pos = order.indexOf(s);
    switch (e.key) {
      case "ArrowLeft":
        i = Math.max(0, i - 1);
        break;
      case "ArrowRight":
        i = Math.min(this.xs.length - 1, i + 1);
        break;
      case "Home":
        i = 0;
        break;
      case "End":
        i = this.xs.length - 1;
        break;
      case "ArrowUp":
        s = order[Math.min(order.length - 1, pos + 1)];
        break;
      case "ArrowDown":
        s = order[Math.max(0, pos - 1)];
        break;
      case "Enter":
      case " ":
        e.preventDefault();
        if (this.at) this.chooseAt();
        return;
      case "Escape":
        this.clear();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (this.series[s].values[i] == null) return;
    this.fromKeyboard = true;
    this.at = { i, s };
    u.setCursor({ left: u.valToPos(this.xs[i], "x"), top: u.valToPos(this.series[s].values[i]!, "y") });
  }
}
