/**
 * The Why's components × components heatmap: one table cell per query part (row) × key part
 * (column), the relative contribution written in it and mixed into its background with the one
 * signed colour routine (text ≥ 4.5:1). A real table: a screen reader reads each cell with its
 * row and column headers; each cell's tooltip names both parts with the tokens they carry.
 */
import type { ExplainResult } from "../../src/protocol/explain";
import { chipColor, Palette } from "../shared/colors";
import { el } from "../shared/dom";

/** One decimal; what rounds to zero is written without a sign (a "−0.0" says nothing). */
const num = (x: number) => (Math.abs(x) < 0.05 ? "0.0" : `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`);

export function whyHeatmap(
  r: ExplainResult,
  k: number,
  palette: Palette,
  queryPart: (c: number) => string,
  keyPart: (c: number) => string,
): HTMLElement {
  const C = r.components.length;
  const rel = (row: number, col: number) => r.relative[(k * C + row) * C + col];
  let scale = 0;
  for (let i = 0; i < C * C; i++) scale = Math.max(scale, Math.abs(r.relative[k * C * C + i]));
  const head = el(
    "tr",
    {},
    el("th", { scope: "col" }, el("span", { class: "sr-only" }, "query part \\ key part"), el("span", { "aria-hidden": "true" }, "q \\ k")),
    ...r.components.map((c, col) => el("th", { scope: "col", title: `key ← ${keyPart(col)}` }, c)),
  );
  const rows = r.components.map((c, row) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", title: `query ← ${queryPart(row)}` }, c),
      ...r.components.map((_, col) => {
        const v = rel(row, col);
        const td = el(
          "td",
          {
            title: `query ← ${queryPart(row)} × key ← ${keyPart(col)}: ${num(v)} relative, term ${r.terms[(k * C + row) * C + col].toFixed(3)}`,
          },
          num(v),
        );
        td.style.background = chipColor(palette, v, scale);
        return td;
      }),
    ),
  );
  const table = el(
    "table",
    { class: "why-heatmap" },
    el("caption", { class: "sr-only" }, "Relative contribution of each query part (rows) × key part (columns) to this key's score"),
    el("thead", {}, head),
    el("tbody", {}, ...rows),
  );
  // A wide model's table scrolls inside its frame (focusable, so the keyboard scrolls it).
  return el("div", { class: "why-heatmap-wrap", tabindex: "0", role: "region", "aria-label": "Parts × parts heatmap" }, table);
}
