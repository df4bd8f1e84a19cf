/**
 * The patching page ("Compare with a Corrupted Copy…"): both texts' token counts while the copy is
 * edited, then the heads × layers grid of each head's share of the clean − corrupted gap; a cell shows
 * that head's per-position patching row and its pattern in the clean and the corrupted run.
 */
import { headName, HeadRef } from "../../src/core/heads";
import { cutToken } from "../../src/core/tokenDisplay";
import type { PatchingPanelApi, PatchingPanelHostApi, PatchingPatterns, PatchingTexts } from "../../src/protocol/patchingPanel";
import type { PatchResult } from "../../src/protocol/whatIf";
import { chipColor, readPalette } from "../shared/colors";
import { connect, onThemeChange } from "../shared/connect";
import { el } from "../shared/dom";
import { initGrids, installGridKeyboard } from "../shared/gridKeyboard";
import { isDarkTheme } from "../shared/colors";
import { sequentialLut } from "../shared/sequential";
import { patchHeatmap, percent, shareOfGap } from "./heatmap";

const { channel } = connect<unknown, PatchingPanelApi, PatchingPanelHostApi>();

let texts: PatchingTexts | undefined;
let result: (PatchResult & { key: string }) | undefined;
/** The chosen heads' per-position rows of this result, by "layer.head". */
const rows = new Map<string, Float64Array>();
let chosen: HeadRef | undefined;
let patterns: PatchingPatterns | undefined;

const title = el("h1", {}, "Activation patching");
const counts = el("p", { class: "counts", role: "status" });
const differ = el("p", { class: "differ" });
const metric = el("p", { class: "metric" });
const status = el("p", { class: "status" });
const gridHost = el("div", { class: "grid-host" });
const detail = el("section", { class: "detail", hidden: "", "aria-live": "polite" });
const intro = el(
  "p",
  { class: "hint" },
  "Edit the corrupted copy (the editor beside) until it has as many tokens as the clean text. The metric is logit[answer] − " +
    "logit[wrong] at the last position (type a token with its leading space, e.g. “ point”). Each head's cell is the share of the " +
    "clean − corrupted gap in the metric that patching its result from the clean run into the corrupted run restores. " +
    "Click a cell (or focus the grid, use the arrow keys and Enter) for its positions and its pattern in both runs.",
);
const answer = el("input", { id: "answer", type: "text", placeholder: "the clean run's top prediction", spellcheck: "false" });
const wrong = el("input", { id: "wrong", type: "text", placeholder: "the corrupted run's top prediction", spellcheck: "false" });
const form = el(
  "form",
  { class: "metric-tokens" },
  el("label", { for: "answer" }, "Answer token"),
  answer,
  el("label", { for: "wrong" }, "Wrong token"),
  wrong,
  el("button", { type: "submit" }, "Patch"),
);
form.addEventListener("submit", (e) => {
  e.preventDefault();
  channel.notify("metricTokens", { answer: answer.value, wrong: wrong.value });
});
document.getElementById("app")!.replaceChildren(el("header", {}, title, counts, differ, metric, status), form, intro, gridHost, detail);
installGridKeyboard();

const tokenLabel = (t: { token: string } | undefined, i: number) => (i === 0 ? "⟨bos⟩" : t ? cutToken(t.token) : "");

function showTexts(): void {
  if (!texts) return;
  const c = texts.clean.length,
    k = texts.corrupt.length;
  title.textContent = `Activation patching · ${texts.model}`;
  counts.textContent = `Clean: ${texts.cleanSource}, ${c} tokens · Corrupted: ${texts.corruptSource}, ${k} tokens`;
  Object.assign(counts.dataset, { clean: String(c), corrupt: String(k) });
  if (c !== k) {
    differ.textContent = `The token counts differ (${c} vs ${k}): edit the corrupted copy until they are equal to patch.`;
    gridHost.classList.add("stale");
    return;
  }
  const diffs = texts.corrupt.flatMap((t, i) => (t.id !== texts!.clean[i].id ? [i] : []));
  differ.textContent =
    diffs.length === 0
      ? "The texts are the same: change some tokens in the corrupted copy."
      : `${diffs.length} of ${c} tokens differ: ` +
        diffs
          .slice(0, 8)
          .map((i) => `${i}: ${tokenLabel(texts!.clean[i], i)} → ${tokenLabel(texts!.corrupt[i], i)}`)
          .join(", ") +
        (diffs.length > 8 ? ", …" : "");
}

function showResult(): void {
  const r = result;
  if (!r) return;
  const palette = readPalette(true);
  gridHost.classList.remove("stale");
  status.textContent = "";
  metric.textContent =
    `Metric: logit[${cutToken(r.answer.token)}] − logit[${cutToken(r.wrong.token)}] at the last position: ` +
    `clean ${r.clean.toFixed(3)}, corrupted ${r.corrupt.toFixed(3)} · ${r.nLayers * r.nHeads} heads patched in ${r.elapsedMs.toFixed(0)} ms`;
  const share = (l: number, h: number) => shareOfGap(r.heads[l * r.nHeads + h], r.clean, r.corrupt);
  gridHost.replaceChildren(patchHeatmap(r.nLayers, r.nHeads, share, palette, (l, h) => choose({ layer: l, head: h })));
  initGrids(gridHost);
  showDetail();
}

/** Texts up to this many tokens get the chosen head's per-position row again after every edit. */
const AUTO_ROW_TOKENS = 256;

function choose(head: HeadRef): void {
  if (!result) return;
  chosen = head;
  for (const b of gridHost.querySelectorAll<HTMLElement>("button.cell"))
    b.classList.toggle("chosen", b.dataset.head === headName(head.layer, head.head));
  channel.notify("chooseHead", { ...head, key: result.key });
  showDetail();
}

function patternCanvas(weights: Float32Array, size: number, label: string): HTMLElement {
  const canvas = el("canvas", { width: String(size), height: String(size), role: "img", "aria-label": label });
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(size, size);
  const lut = sequentialLut(isDarkTheme());
  for (let i = 0; i < weights.length; i++) {
    const b = Math.max(0, Math.min(255, Math.round(weights[i] * 255))) * 3;
    img.data.set([lut[b], lut[b + 1], lut[b + 2], 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  return el("figure", {}, canvas, el("figcaption", {}, label));
}

function showDetail(): void {
  const r = result,
    head = chosen;
  if (!r || !head || !texts) return void (detail.hidden = true);
  const name = headName(head.layer, head.head);
  const parts: HTMLElement[] = [el("h2", {}, `${name}: patched one position at a time`)];
  const row = rows.get(`${head.layer}.${head.head}`);
  if (row) {
    const T = r.cleanTokens.length;
    const at = (t: number) => shareOfGap(row[t], r.clean, r.corrupt);
    let scale = 0;
    for (let t = 0; t < T; t++) if (Number.isFinite(at(t))) scale = Math.max(scale, Math.abs(at(t)));
    const palette = readPalette(true);
    const cells = Array.from({ length: T }, (_, t) => {
      const td = el("td", { "data-position": String(t), "data-share": String(at(t)) }, percent(at(t)));
      if (Number.isFinite(at(t))) td.style.background = chipColor(palette, at(t), scale);
      return td;
    });
    const tokenRow = (which: "clean" | "corrupted", toks: { token: string }[]) =>
      el("tr", {}, el("th", { scope: "row" }, which), ...toks.map((t, i) => el("td", { title: t.token }, tokenLabel(t, i))));
    parts.push(
      el(
        "div",
        { class: "row-scroll", role: "region", tabindex: "0", "aria-label": `${name}: share of the gap restored at each position` },
        el(
          "table",
          { class: "positions" },
          el("tr", {}, el("th", { scope: "row" }, "position"), ...Array.from({ length: T }, (_, t) => el("td", {}, String(t)))),
          tokenRow("clean", r.cleanTokens),
          tokenRow("corrupted", r.corruptTokens),
          el("tr", {}, el("th", { scope: "row" }, "share"), ...cells),
        ),
      ),
    );
  } else parts.push(el("p", { class: "hint" }, "Patching each position…"));
  const p = patterns && patterns.key === r.key && patterns.layer === head.layer && patterns.head === head.head ? patterns : undefined;
  if (p)
    parts.push(
      el("h3", {}, `${name}'s attention pattern (rows: queries, columns: keys)`),
      el(
        "div",
        { class: "pattern-pair" },
        patternCanvas(p.clean, p.size, `${name} on the clean text`),
        patternCanvas(p.corrupt, p.size, `${name} on the corrupted text`),
      ),
    );
  detail.replaceChildren(...parts);
  detail.hidden = false;
}

channel
  .serve("texts", (t) => {
    texts = t;
    showTexts();
  })
  .serve("running", () => {
    status.textContent = "Patching every head…";
    gridHost.classList.add("stale");
  })
  .serve("result", (r) => {
    result = r;
    rows.clear();
    patterns = undefined;
    showResult();
    // A chosen head's per-position row costs one tail run per token: again by itself on short texts only.
    if (chosen && r.cleanTokens.length <= AUTO_ROW_TOKENS) choose(chosen);
    else chosen = undefined;
  })
  .serve("positions", (p) => {
    if (p.key !== result?.key) return;
    rows.set(`${p.layer}.${p.head}`, p.row);
    showDetail();
  })
  .serve("patterns", (p) => {
    patterns = p;
    showDetail();
  })
  .serve("failed", ({ message }) => {
    status.textContent = `Could not patch: ${message}`;
    gridHost.classList.remove("stale");
  });

onThemeChange(() => showResult());

channel.notify("ready", {});
