/**
 * The attention panel: the model's run on the user's text. Its layout is built once; each message
 * updates only its part (the grid repaints its canvases, the strip restyles its tokens), so a long
 * text or a stream of re-runs while typing never re-renders the whole panel.
 */
import type { HeadMetrics } from "../../src/core/headMetrics";
import type { HeadRef } from "../../src/core/heads";
import type { PatternResult } from "../../src/protocol/attention";
import type {
  AttentionPanelApi,
  AttentionPanelHostApi,
  AttentionSession,
  PanelBaseline,
  PanelPredictions,
} from "../../src/protocol/attentionPanel";
import type { PanelRun } from "../../src/protocol/attentionPanel";
import { textPatternScores } from "../../src/core/textScores";
import type { HeadAblation } from "../../src/protocol/whatIf";
import { PathMenu } from "./ablateControls";
import { ComparisonBar, deltaColors, textLoss } from "./comparison";
import type { ExplainResult } from "../../src/protocol/explain";
import { TOP_SOURCES, topSources } from "../../src/core/whyParts";
import { connect, onThemeChange } from "../shared/connect";
import { BigPattern } from "./bigPattern";
import { readPalette } from "./canvasColors";
import { HeadGrid } from "./headGrid";
import { TokenStrip } from "./tokenStrip";
import { el } from "../shared/dom";
import { headName } from "../../src/core/heads";
import { titleScores } from "./scoreLabels";
import { WhySection } from "./why";

/** The saved state is only what the host needs to run the panel again after a window reload. */
const { vscode, channel } = connect<{ session: AttentionSession | null }, AttentionPanelApi, AttentionPanelHostApi>();

let palette = readPalette();
let run: PanelRun | undefined;
let head: HeadRef | undefined;
let pattern: PatternResult | undefined;
let position: number | undefined;
let hovered: number | undefined;
let dla: Float32Array | undefined;
/** Under an ablation: the ablated run's predictions, and the baseline (run and enlarged head's pattern) it is compared with. */
let predictions: PanelPredictions | undefined;
let baseline: PanelBaseline | undefined;
let basePattern: PatternResult | undefined;
/** Head metrics by model identity: a late reply for another model (after Change model…) is kept beside, never over, this one's. */
const metricsOf = new Map<string, { heads?: HeadMetrics[]; note?: string }>();

const title = el("h1", {}, "Attention");
const meta = el("p", { class: "meta" });
const notice = el("p", { class: "notice", hidden: "" });
const status = el("p", { class: "status", role: "status" });
/** Said once above the grid when the text gives no induction score. */
const textNote = el("p", { class: "hint text-note", hidden: "" }, "Induction on this text: n/a (no repeated tokens).");
const ablate = (ablations: HeadAblation[]) => channel.notify("ablate", { ablations });
const grid = new HeadGrid({
  choose: (layer, h) => run && channel.notify("chooseHead", { layer, head: h, runId: run.runId }),
  ablate,
  menu: (layer, h) => {
    if (run) channel.notify("chooseHead", { layer, head: h, runId: run.runId });
    menuFor = { layer, head: h };
  },
});
/** A head whose menu was asked for (right click): focused once it is the enlarged head. */
let menuFor: HeadRef | undefined;
const comparison = new ComparisonBar({
  restore: () => channel.notify("restoreModel", {}),
  view: () => showComparison(),
});
const pathMenu = new PathMenu(() => comparison.list, ablate);
const big = new BigPattern({
  hoverRow: (q) => strip.show(q ?? hovered ?? position, (q ?? hovered) !== undefined),
  choose: (i, j) => askWhy(i, j),
  startRow: () => position,
});
/** The Why asked for last (the cell, and when: the section records how long it took to appear). */
let asked: { query: number; key: number; at: number } | undefined;
let shownWhy: ExplainResult | undefined;
const why = new WhySection({
  why: (layer, h, query, key) => run && channel.notify("why", { runId: run.runId, layer, head: h, query, key }),
  openPath: (via) => head && channel.notify("openPath", { ...head, via }),
  reveal: (p) => run && channel.notify("choosePosition", { runId: run.runId, position: p }),
});
const bigTitle = el("h2", {}, "");
const bigHint = el(
  "p",
  { class: "hint" },
  "Click a cell, or focus the pattern and use the arrow keys and Enter, to see why the head attends there.",
);
const bigSection = el("section", { class: "enlarged", hidden: "" }, bigTitle, pathMenu.root, bigHint, big.root, why.root);
const strip = new TokenStrip(palette, {
  hover: (i) => {
    hovered = i;
    strip.show(i ?? position, i !== undefined);
    showDla(i ?? position);
  },
  choose: (i) => run && channel.notify("choosePosition", { runId: run.runId, position: i }),
});
const empty = el(
  "p",
  { class: "empty" },
  "Select text in an editor and run “Head Lens: Show Attention” (editor context menu, or Ctrl+Alt+A).",
);
const body = el(
  "div",
  { class: "layout", hidden: "" },
  el(
    "section",
    { class: "grid-section" },
    el("h2", {}, "Heads"),
    el("p", { class: "hint" }, "Click a head to enlarge it and to highlight its attention in the editor as the cursor moves."),
    el(
      "p",
      { class: "hint" },
      "Under each head, “text:” is measured on this text; “random:” on fixed random sequences repeated twice (copying: on the weights). " +
        "Hover a line for its definition.",
    ),
    textNote,
    grid.root,
  ),
  bigSection,
  el("section", { class: "tokens-section" }, el("h2", {}, "Tokens"), strip.strip, strip.details),
);
const changeModel = el("button", { class: "link", hidden: "" }, "Change model…");
changeModel.addEventListener("click", () => channel.notify("chooseModel", {}));
document
  .getElementById("app")!
  .replaceChildren(
    el("header", { class: "top" }, el("div", { class: "title" }, title, changeModel), meta, notice, status, comparison.root),
    empty,
    body,
  );

function showDla(t: number | undefined): void {
  if (!run || !dla || t === undefined || t + 1 >= run.tokens.length) {
    grid.showDla(undefined, 1, palette);
    return;
  }
  const L = run.nLayers,
    H = run.nHeads;
  let scale = 0;
  for (let k = 0; k < L * H; k++) scale = Math.max(scale, Math.abs(dla[t * L * H + k]));
  grid.showDla((l, h) => dla![(t * L + l) * H + h], scale, palette);
}

function askWhy(query: number, key: number): void {
  if (!run || !head) return;
  if (comparison.active) {
    why.note(
      "Why explains the model as it is: restore the model to ask it.",
      run.tokens,
      run.bos !== null,
      headName(head.layer, head.head),
      query,
      key,
    );
    return;
  }
  asked = { query, key, at: performance.now() };
  why.note("Explaining…", run.tokens, run.bos !== null, headName(head.layer, head.head), query, key);
  big.markExplained({ i: query, j: key });
  channel.notify("why", { runId: run.runId, layer: head.layer, head: head.head, query, key });
}

/** Forgets the Why (a new run, another head). */
function hideWhy(): void {
  shownWhy = undefined;
  asked = undefined;
  why.hide();
  big.markExplained(undefined);
  strip.markSources([]);
}

function showWhy(r: ExplainResult): void {
  if (!run || r.runId !== run.runId || r.layer !== head?.layer || r.head !== head.head) return;
  shownWhy = r;
  why.show(r, run.tokens, run.bos !== null, palette.signed);
  big.markExplained({ i: r.query, j: r.keys[0] });
  strip.markSources(r.sources ? topSources(r.sources, TOP_SOURCES) : []);
  if (asked?.query === r.query && asked.key === r.keys[0]) why.root.dataset.ms = (performance.now() - asked.at).toFixed(1);
  else delete why.root.dataset.ms; // opened from the editor or a link: no click to time from
}

/** The baseline's pattern of the enlarged head, when it is the one compared with the shown run. */
function shownBase(): PatternResult | undefined {
  const b = basePattern;
  return b && baseline && b.runId === run?.runId && b.layer === head?.layer && b.head === head.head && b.T === pattern?.T ? b : undefined;
}

/** The induction score of a pattern on the run's tokens, for what a reader (and the e2e test) reads off the enlarged head. */
function induction(weights: Float32Array): string {
  if (!run) return "";
  const s = textPatternScores(
    weights,
    1,
    run.tokens.map((t) => t.id),
    run.bos !== null ? 1 : 0,
  )[0];
  return s.induction === null ? "" : String(s.induction);
}

function drawBig(): void {
  if (!run || !head || !pattern || pattern.runId !== run.runId || pattern.layer !== head.layer || pattern.head !== head.head) return;
  const name = headName(head.layer, head.head);
  pathMenu.show(head.layer, head.head, run.nLayers, run.nHeads);
  if (menuFor?.layer === head.layer && menuFor.head === head.head) {
    menuFor = undefined;
    pathMenu.focus();
  }
  const base = shownBase();
  bigSection.dataset.induction = induction(pattern.weights);
  bigSection.dataset.baselineInduction = base ? induction(base.weights) : "";
  bigSection.dataset.view = base ? comparison.view : "";
  if (base && comparison.view !== "ablated") {
    const w = comparison.view === "baseline" ? base.weights : pattern.weights.map((x, i) => x - base.weights[i]);
    bigTitle.textContent = `${name} · ${comparison.view === "baseline" ? "baseline (the model as it is)" : "change: ablated − baseline"}`;
    bigSection.hidden = false;
    big.draw(name, pattern.T, w, run.tokens, run.bos !== null, palette, comparison.view === "difference");
    return;
  }
  const m = metricsOf.get(run.identity)?.heads?.find((x) => x.layer === head!.layer && x.head === head!.head);
  bigTitle.textContent = `${name}${titleScores(run.textScores[head.layer]?.[head.head], m)}${base ? " · ablated run" : ""}`;
  bigSection.hidden = false;
  big.draw(name, pattern.T, pattern.weights, run.tokens, run.bos !== null, palette);
  strip.update({ pattern: { name, T: pattern.T, weights: pattern.weights } });
}

/** Draws the comparison (or nothing of it, with no baseline for this run): thumbnails, loss, token colours, enlarged head. */
function showComparison(): void {
  const b = baseline && baseline.runId === run?.runId ? baseline : undefined;
  const layers = b?.patterns.kind === "thumbnails" ? b.patterns.layers : undefined;
  grid.compare(layers, comparison.view, palette);
  const next = predictions?.runId === run?.runId ? predictions?.next : undefined;
  comparison.showLoss(b && next ? textLoss(b.next) : undefined, b && next ? textLoss(next) : undefined);
  strip.update({ baseline: b && { top: b.top, next: b.next } });
  strip.setBase(b && next ? deltaColors(next, b.next, palette.signed) : []);
  drawBig();
}

channel
  .serve("ablations", ({ ablations, label }) => {
    comparison.setList(ablations, label);
    grid.markAblated(ablations);
    if (head && run) pathMenu.show(head.layer, head.head, run.nLayers, run.nHeads);
    if (!ablations.length) baseline = basePattern = undefined;
    showComparison();
  })
  .serve("baseline", (b) => {
    baseline = b;
    showComparison();
  })
  .serve("baselinePattern", (p) => {
    basePattern = p;
    drawBig();
  })
  .serve("running", ({ source }) => {
    status.textContent = `Running on ${source}…`;
    body.classList.add("stale");
  })
  .serve("run", (r) => {
    run = r;
    pattern = undefined;
    hideWhy();
    dla = undefined;
    empty.hidden = true;
    body.hidden = false;
    body.classList.remove("stale");
    status.textContent = "";
    title.textContent = `Attention · ${r.model}`;
    changeModel.hidden = false;
    const T = r.tokens.length;
    const bos = r.bos !== null ? " (BOS prepended)" : "";
    meta.textContent = `${r.source} · ${T.toLocaleString("en-US")} tokens${bos} · patterns in ${r.elapsedMs.toFixed(0)} ms`;
    notice.hidden = r.truncated === 0;
    notice.textContent = r.truncated
      ? `The text is longer than the model's context (n_ctx ${r.nCtx}): its first ${r.truncated.toLocaleString("en-US")} tokens were dropped; ` +
        `the run covers BOS and the last ${r.nCtx - 1}.`
      : "";
    if (r.patterns.kind === "thumbnails") grid.draw(r.nLayers, r.nHeads, r.patterns.size, r.patterns.layers, palette);
    grid.select(head?.layer, head?.head);
    const known = metricsOf.get(r.identity);
    grid.showMetrics(known?.heads, known?.note);
    grid.showTextScores(r.textScores);
    textNote.hidden = r.textScores[0]?.[0]?.induction !== null;
    strip.setTokens({ tokens: r.tokens, bos: r.bos !== null, nLayers: r.nLayers, nHeads: r.nHeads });
    if (position !== undefined && position < T) strip.show(position);
    else position = undefined;
    grid.showDla(undefined, 1, palette);
    showComparison(); // the last comparison is not this run's: until its baseline comes, none
  })
  .serve("predictions", (p) => {
    if (!run || p.runId !== run.runId) return;
    predictions = p;
    dla = p.dla;
    meta.textContent += ` · all in ${p.timings.totalMs.toFixed(0)} ms (${p.ep})`;
    strip.update({ top: p.top, next: p.next, dla: p.dla });
    showDla(hovered ?? position);
    showComparison();
  })
  .serve("pattern", (p) => {
    pattern = p;
    drawBig();
  })
  .serve("metrics", (m) => {
    const got = "heads" in m ? { heads: m.heads } : { note: `Head metrics unavailable: ${m.unavailable}` };
    metricsOf.set(m.identity, got);
    if (run?.identity === m.identity) grid.showMetrics(got.heads, got.note);
    drawBig();
  })
  .serve("chosen", (c) => {
    const other = c.head !== undefined && (c.head?.layer !== head?.layer || c.head?.head !== head?.head);
    if (other) hideWhy();
    if (c.head === null) {
      head = undefined;
      pattern = undefined;
      grid.select();
      bigSection.hidden = true;
      strip.update({ pattern: undefined });
    } else if (c.head) {
      head = c.head;
      grid.select(head.layer, head.head);
    }
    if (c.position !== undefined) {
      position = c.position;
      if (hovered === undefined) {
        strip.show(position);
        showDla(position);
      }
    }
  })
  .serve("why", (r) => showWhy(r))
  .serve("whyFailed", (f) => {
    if (!run) return;
    const key = f.key === "strongest" ? undefined : f.key; // the title names the key only when it was asked for
    why.note(`Could not explain this cell: ${f.message}`, run.tokens, run.bos !== null, headName(f.layer, f.head), f.query, key);
  })
  .serve("failed", ({ message }) => {
    status.textContent = `Could not run the model: ${message}`;
    body.classList.remove("stale");
  })
  .serve("stopped", () => {
    body.classList.remove("stale");
    changeModel.hidden = true; // nothing is followed: there is no text to run under another model
    status.textContent =
      `Stopped following the editor: no highlights, no re-runs on edits.${run ? " The panel shows the last run." : ""} ` +
      "Run Head Lens: Show Attention to follow the editor again.";
  })
  .serve("session", (session) => vscode.setState({ session }));

// Theme changes update the CSS variables and the body's class: repaint the canvases with the new colours.
onThemeChange(() => {
  palette = readPalette();
  grid.redraw(palette);
  showComparison();
  strip.setPalette(palette); // the attribution colours are mixed for the theme, not by CSS
  showDla(hovered ?? position);
  if (shownWhy) showWhy(shownWhy); // the heatmap's colours are mixed for the theme
});

channel.notify("ready", {});
