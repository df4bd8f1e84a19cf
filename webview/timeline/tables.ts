/**
 * The figures of a chart as a table (checkpoints × lines, three decimals, the exact value in
 * data-value): what a screen reader or a reader who wants the numbers gets instead of the canvas.
 */
import { formatLabel } from "../../src/core/timelineFigures";
import { el } from "../shared/dom";
import type { LineSeries } from "./lineChart";

export function figureTable(f: { series: LineSeries[]; element: HTMLElement }, xs: number[], xLabel: string): HTMLElement {
  const title = f.element.querySelector("h2")?.textContent ?? "";
  const head = el("tr", {}, el("th", { scope: "col" }, xLabel), ...f.series.map((s) => el("th", { scope: "col" }, s.name)));
  const rows = xs.map((x, i) =>
    el(
      "tr",
      { "data-label": String(x) },
      el("th", { scope: "row", title: String(x) }, formatLabel(x)),
      ...f.series.map((s) => {
        const v = s.values[i];
        return el("td", { "data-series": s.key, "data-value": v == null ? "" : String(v) }, v == null ? "–" : v.toFixed(3));
      }),
    ),
  );
  return el(
    "div",
    { class: "table-scroll", role: "region", tabindex: "0", "aria-label": `${title}: the figures` },
    el("table", { class: "figures-table" }, el("caption", { class: "sr-only" }, title), el("thead", {}, head), el("tbody", {}, ...rows)),
  );
}
