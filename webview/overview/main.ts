/**
 * The model overview: a heads × metrics table (sortable; every cell opens its head) and the Q/K/V
 * composition heatmaps (every cell opens the path), with one sentence per metric and its source.
 */
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import type { HeadMetrics, ModelMetrics } from "../../src/core/headMetrics";
import type { OverviewApi, OverviewHostApi } from "../../src/protocol/overviewPanel";
import type { ModelSummary } from "../../src/protocol/page";
import {
  COMPOSITION_INFO,
  compositionBaseline,
  strongestTrait,
  TRAITS,
  TraitInfo,
  PATTERN_THRESHOLD,
  COPYING_THRESHOLD,
} from "../../src/core/headTraits";
import { chipColor, onPaletteChange, Palette, readPalette, scaleGradient } from "../shared/colors";
import { sequentialCell, sequentialGradient } from "../shared/sequential";
import { el } from "../shared/dom";
import { focusedCell, initGrids, installGridKeyboard, restoreCell } from "../shared/gridKeyboard";
import { focusedKey, restoreFocus } from "../shared/rovingKeyboard";
import { heatmap } from "./heatmap";
import { connect } from "../shared/connect";
import { Column, headCellLabel, headColumn, sortableTable, SortState } from "../shared/sortableTable";

interface State {
  model?: ModelSummary;
  metrics?: ModelMetrics;
  error?: string;
  sort: SortState;
}

const { vscode, channel } = connect<State, OverviewApi, OverviewHostApi>();
const app = document.getElementById("app")!;
let state: State = vscode.getState() ?? { sort: { key: "head", dir: "asc" } };
let palette: Palette = readPalette();

channel.serve("show", (m) => {
  state = { ...state, model: m.model, metrics: m.metrics, error: m.error };
  vscode.setState(state);
  render();
});

const openHead = (h: { layer: number; head: number }) => channel.notify("openHead", { layer: h.layer, head: h.head });

function columns(): Column<HeadMetrics>[] {
  const badge = (h: HeadMetrics) => strongestTrait(h);
  const trait = (t: TraitInfo): Column<HeadMetrics> => ({
    key: t.key,
    title: t.title,
    help: `${capital(t.meaning)} (${t.source}).`,
    numeric: true,
    firstDir: "desc",
    value: (h) => h[t.key],
    text: (h) => h[t.key].toFixed(3),
    // Shaded by the score itself: pattern scores (0–1) on the sequential scale, copying (−1 to 1) by the signed colour.
    color: (h) => (t.key === "copying" ? chipColor(palette, h[t.key], 1) : sequentialCell(palette, h[t.key])),
  });
  return [
    headColumn(),
    {
      key: "badge",
      title: "Badge",
      help: BADGE_RULE,
      firstDir: "desc",
      value: (h) => {
        const b = badge(h);
        return b ? b.score / b.trait.threshold! : 0;
      },
      text: (h) => badge(h)?.text ?? "—",
    },
    ...TRAITS.map(trait),
  ];
}

const BADGE_RULE =
  `The head's strongest trait: of the pattern scores (badge from ${PATTERN_THRESHOLD}) and copying (from ${COPYING_THRESHOLD}), ` +
  "the one with the highest score ÷ threshold; none when no trait reaches its threshold.";
const capital = (s: string) => s[0].toUpperCase() + s.slice(1);

function render(): void {
  const focus = focusedCell(),
    focusNav = focusedKey();
  const m = state.model;
  if (!m) {
    app.replaceChildren(el("p", { class: "empty" }, "Loading Head Lens…"));
    return;
  }
  const top = el(
    "header",
    { class: "top overview-top" },
    el(
      "div",
      { class: "title" },
      el("h1", {}, `${m.name}: model overview`),
      el(
        "span",
        { class: "meta" },
        `${m.nLayers} layer${m.nLayers > 1 ? "s" : ""} · ${m.nHeads} heads · V ${m.dVocab.toLocaleString("en-US")} · ` +
          "from the weights alone (no prior, no report settings)",
      ),
    ),
  );
  const body: HTMLElement[] = [];
  if (state.error) body.push(el("p", { class: "status error", role: "alert" }, `The metrics could not be computed: ${state.error}`));
  else if (!state.metrics) {
    body.push(
      el("vscode-progress-bar", { indeterminate: "", "aria-label": "Computing the metrics" }),
      el("p", { class: "status", role: "status" }, "Computing the head metrics and composition scores in the engine…"),
    );
  } else body.push(...content(m, state.metrics));
  app.replaceChildren(top, ...body, explanations());
  initGrids(app);
  if (focus) restoreCell(focus);
  else restoreFocus(focusNav);
}

function content(m: ModelSummary, metrics: ModelMetrics): HTMLElement[] {
  const cols = columns();
  const table = sortableTable<HeadMetrics>({
    id: "metrics",
    caption:
      "Every head's traits. Click a cell (or press Enter on it) to open the head in the heads panel; click a column's title to sort.",
    columns: cols,
    rows: metrics.heads,
    sort: state.sort,
    onSort: (sort) => {
      state.sort = sort;
      vscode.setState(state);
      render();
    },
    cellLabel: headCellLabel,
    open: openHead,
    rowClass: (h) => (strongestTrait(h) ? "has-badge" : ""),
  });
  const heads = el(
    "section",
    { class: "block", "aria-labelledby": "heads-title" },
    el("h2", { id: "heads-title" }, "Heads"),
    table,
    el(
      "p",
      { class: "meta scale-legend" },
      "Shading: 0 ",
      swatch(sequentialGradient(palette.dark)),
      " 1 for the attention scores; copying (−1 to 1) ",
      swatch(scaleGradient(palette)),
      ".",
    ),
  );
  const env = {
    nLayers: m.nLayers,
    nHeads: m.nHeads,
    palette,
    baseline: m.dModel ? compositionBaseline(m.dModel) : NaN,
    open: (from: { layer: number; head: number }, to: { layer: number; head: number }, type: "q" | "k" | "v") =>
      channel.notify("openPath", { layer: to.layer, head: to.head, via: { layer: from.layer, head: from.head, type } }),
  };
  const maps =
    m.nLayers < 2
      ? [el("p", { class: "meta" }, "A one-layer model has no composition: every path is direct.")]
      : [el("div", { class: "heatmaps" }, ...(["k", "q", "v"] as const).map((t) => heatmap(t, metrics.composition[t], env)))];
  const comp = el(
    "section",
    { class: "block", "aria-labelledby": "comp-title" },
    el("h2", { id: "comp-title" }, "Composition"),
    el(
      "p",
      { class: "meta" },
      "How much each later head reads what an earlier head writes. Click a cell to open the later head's path through the earlier one: " +
        "its key cards, and for K and Q the induction signature. Cells are shaded on the same scale as the attention scores, " +
        "by the score over the map's strongest.",
    ),
    ...(m.dModel
      ? [
          el(
            "p",
            { class: "meta baseline" },
            `For comparison, independent random matrices of this shape score about 1/√d_model = ${compositionBaseline(m.dModel).toFixed(3)} ` +
              `(d_model ${m.dModel}); a pair well above it composes.`,
          ),
        ]
      : []),
    ...maps,
  );
  return [heads, comp];
}

/** A legend's colour swatch (CSSOM: the CSP forbids style attributes); the page is drawn again on a theme change. */
function swatch(background: string): HTMLElement {
  const s = el("span", { class: "swatch", "aria-hidden": "true" });
  s.style.setProperty("background", background);
  return s;
}

/** One sentence per metric, with its source. */
function explanations(): HTMLElement {
  const row = (term: string, text: string, source: string) => [
    el("dt", {}, term),
    el("dd", {}, `${capital(text)}. `, el("cite", {}, source)),
  ];
  return el(
    "section",
    { class: "block explain", "aria-labelledby": "explain-title" },
    el("h2", { id: "explain-title" }, "What the figures mean"),
    el(
      "dl",
      {},
      ...TRAITS.flatMap((t) => row(t.title, t.meaning, t.source)),
      ...row("Composition", COMPOSITION_INFO.meaning, COMPOSITION_INFO.source),
      el("dt", {}, "Badge"),
      el("dd", {}, `${BADGE_RULE} The tree shows it next to the head.`),
      el("dt", {}, "Sequences"),
      el(
        "dd",
        {},
        "The pattern scores are measured on the model's own forward pass over 16 fixed sequences: BOS, then 50 random tokens, then the same 50 again.",
      ),
    ),
  );
}

onPaletteChange((next) => {
  palette = next;
  render();
});
installGridKeyboard();
render();
channel.notify("ready", {});
