/**
 * A composition heatmap: rows are the earlier-layer heads, columns the later-layer heads; each
 * cell where the row's layer is below the column's is a button that opens the path through the
 * earlier head ("K-composition L0H3 → L1H0 0.175, open the path"). Colour: the shared sequential
 * scale (sequential.ts) of the score relative to the map's largest, with text kept at 4.5:1.
 */
import { headName } from "../../src/core/heads";
import type { CompositionType } from "../../src/core/headMetrics";
import { COMPOSITION_INFO, COMPOSITION_NAME, strongestComposition } from "../../src/core/headTraits";
import { Palette } from "../shared/colors";
import { sequentialCell } from "../shared/sequential";
import { el } from "../shared/dom";

export interface HeatmapEnv {
  nLayers: number;
  nHeads: number;
  /** The score of independent random matrices of the model's shape (compositionBaseline). */
  baseline: number;
  palette: Palette;
  open(from: { layer: number; head: number }, to: { layer: number; head: number }, type: CompositionType): void;
}

const fmt3 = (x: number) => x.toFixed(3);

export function heatmap(type: CompositionType, t: number[][][][], env: HeatmapEnv): HTMLElement {
  const { nLayers: L, nHeads: H } = env;
  const earlier = Array.from({ length: (L - 1) * H }, (_, i) => ({ layer: Math.floor(i / H), head: i % H }));
  const later = Array.from({ length: (L - 1) * H }, (_, i) => ({ layer: 1 + Math.floor(i / H), head: i % H }));
  const best = strongestComposition(t);
  const max = Math.max(1e-12, best?.score ?? 0);
  const name = COMPOSITION_NAME[type];
  const isBest = (a: { layer: number; head: number }, b: { layer: number; head: number }) =>
    !!best && best.from.layer === a.layer && best.from.head === a.head && best.to.layer === b.layer && best.to.head === b.head;
  const label = (a: { layer: number; head: number }, b: { layer: number; head: number }, score: number) =>
    `${name} ${headName(a.layer, a.head)} → ${headName(b.layer, b.head)} ${fmt3(score)}${isBest(a, b) ? ", the strongest" : ""}, open the path`;
  const headRow = el(
    "tr",
    {},
    el("td", { class: "corner" }, el("span", { class: "axis" }, "earlier ↓ · later →")),
    ...later.map((b) => el("th", { scope: "col" }, headName(b.layer, b.head))),
  );
  const rows = earlier.map((a, i) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, headName(a.layer, a.head)),
      ...later.map((b, j) => {
        if (a.layer >= b.layer) return el("td", { class: "na" }, el("span", { class: "sr-only" }, "none: not an earlier layer"));
        const score = t[a.layer]?.[a.head]?.[b.layer]?.[b.head] ?? NaN;
        const cell = el(
          "button",
          {
            class: `cell hm${isBest(a, b) ? " best" : ""}`,
            "data-row": String(i),
            "data-col": String(j),
            tabindex: "-1",
            "aria-label": label(a, b, score),
            "data-from": headName(a.layer, a.head),
            "data-to": headName(b.layer, b.head),
            title: label(a, b, score),
          },
          Number.isFinite(score) ? fmt3(score) : "—",
        );
        if (Number.isFinite(score)) {
          const shade = sequentialCell(env.palette, score / max);
          cell.style.setProperty("--cell-bg", shade.bg);
          cell.style.setProperty("--cell-fg", shade.fg);
        }
        cell.addEventListener("click", () => env.open(a, b, type));
        return el("td", {}, cell);
      }),
    ),
  );
  const strongest = best
    ? (() => {
        const b = el(
          "button",
          { class: "link", "data-nav": `best-${type}` },
          `${headName(best.from.layer, best.from.head)} → ${headName(best.to.layer, best.to.head)} ${fmt3(best.score)}`,
        );
        const times = Number.isFinite(env.baseline) ? `${(best.score / env.baseline).toFixed(1)}× the random baseline` : "";
        b.setAttribute(
          "aria-label",
          `Strongest ${name}: ${headName(best.from.layer, best.from.head)} → ${headName(best.to.layer, best.to.head)} ` +
            `${fmt3(best.score)}${times ? `, ${times}` : ""}, open the path`,
        );
        b.addEventListener("click", () => env.open(best.from, best.to, type));
        return el("p", { class: "strongest" }, "Strongest: ", b, ...(times ? [el("span", { class: "meta" }, ` · ${times}`)] : []));
      })()
    : el("p", { class: "strongest" }, "No pair.");
  return el(
    "section",
    { class: "heatmap", "data-type": type, "aria-labelledby": `hm-title-${type}` },
    el("h3", { id: `hm-title-${type}` }, name),
    el("p", { class: "meta" }, COMPOSITION_INFO.types[type]),
    strongest,
    el(
      "table",
      { class: "hm-table", "data-grid": `hm-${type}` },
      el("caption", { class: "sr-only" }, `${name} scores: rows are earlier heads, columns later heads`),
      el("thead", {}, headRow),
      el("tbody", {}, ...rows),
    ),
  );
}
