/** A head's section: skip link, collapsible title, key cards with query and logit chips. */
import type { TokenScore } from "../src/core/report";
import { headName } from "../src/core/headName";
import type { ModelSummary, ShownHead } from "../src/protocol/webview";
import { ChipContext, chipTooltip, isGlyphToken, queryRankScore, visibleToken } from "./chips";
import { chipColor, Palette } from "./colors";
import { el, headId, headKey } from "./dom";
import { FORMULAS } from "./legend";

export interface CardEnv {
  model: ModelSummary;
  palette: Palette;
  querySort: "rule" | "score";
  collapsed(key: string): boolean;
  toggleCollapsed(key: string): void;
  copy(layer: number, head: number): void;
  focusHead(layer: number, head: number): void;
  pin(id: number): void;
  showTip(anchor: HTMLElement, content: HTMLElement): void;
  hideTip(): void;
}

/** The section's frame: a skip link to what follows, the title (a disclosure button) and meta. */
function frame(layer: number, head: number, env: CardEnv, meta: HTMLElement, extra: HTMLElement[], body: HTMLElement, pending: boolean): HTMLElement {
  const key = headKey(layer, head);
  const name = headName(layer, head);
  const collapsed = env.collapsed(key);
  const toggle = el("button", { class: "toggle", "aria-expanded": String(!collapsed), "aria-controls": `cards-${layer}-${head}`, "data-nav": `toggle-${key}`, title: collapsed ? `Show ${name}` : `Collapse ${name}` },
    el("span", { class: "chevron", "aria-hidden": "true" }, collapsed ? "▸" : "▾"), name);
  toggle.addEventListener("click", () => env.toggleCollapsed(key));
  const skip = el("a", { class: "skip-link", href: "#", "data-skip": key, "data-nav": `skip-${key}` }, `Skip ${name}`);
  body.id = `cards-${layer}-${head}`;
  if (collapsed) body.hidden = true;
  const sec = el("section", { class: `head${pending ? " pending" : ""}${collapsed ? " collapsed" : ""}`, id: headId(layer, head), "aria-labelledby": `title-${layer}-${head}` },
    skip,
    el("div", { class: "head-title" }, el("h2", { id: `title-${layer}-${head}` }, toggle), meta, ...extra),
    body);
  if (pending) sec.setAttribute("aria-busy", "true");
  sec.dataset.order = String(layer * 1000 + head);
  sec.dataset.head = key;
  return sec;
}

export function skeleton(layer: number, head: number, what: string, env: CardEnv): HTMLElement {
  return frame(layer, head, env, el("span", { class: "meta" }, what), [],
    el("div", { class: "cards" }, ...[0, 1, 2].map(() => el("div", { class: "card skeleton", "aria-hidden": "true" }))), true);
}

export function headSection(h: ShownHead, env: CardEnv): HTMLElement {
  const r = h.report;
  const copy = el("vscode-button", { secondary: "", class: "copy", title: `Copy ${headName(r.layer, r.head)}'s report as text`, "data-nav": `copy-${r.layer}:${r.head}` }, "Copy report");
  copy.addEventListener("click", () => env.copy(r.layer, r.head));
  const allScores = r.keys.flatMap((k) => [...k.queries, ...k.outputs].map((x) => Math.abs(x.score)));
  const scale = Math.max(1e-12, ...allScores);
  const meta = el("span", { class: "meta" }, `${r.ep.toUpperCase()} · ${(h.elapsedMs / 1000).toFixed(2)} s${h.cached ? " (cached)" : ""} · `,
    el("abbr", { title: FORMULAS.prior }, "prior"), `: ${h.details.prior}`);
  const sec = frame(r.layer, r.head, env, meta, [copy], el("div", { class: "cards" }, ...r.keys.map((_, i) => keyCard(h, i, scale, env))), false);
  // Working in a head makes it the editor hover's head (the status bar shows which).
  sec.addEventListener("focusin", () => env.focusHead(r.layer, r.head));
  sec.addEventListener("click", () => env.focusHead(r.layer, r.head));
  return sec;
}

function figure(term: string, value: string, formula: string): HTMLElement[] {
  return [el("dt", {}, el("abbr", { title: formula }, term)), el("dd", { title: formula }, value)];
}

function keyCard(h: ShownHead, index: number, scale: number, env: CardEnv): HTMLElement {
  const k = h.report.keys[index];
  const d = h.details.keys[index];
  const where = `${h.report.layer}:${h.report.head}:${index}`;
  const ctx = (kind: ChipContext["kind"], rank: number, of: number, baseline: number): ChipContext => ({ kind, rank, of, baseline, key: k.token, details: h.details, model: env.model });
  const queries = k.queries.map((x, i) => ({ x, c: ctx("query", i + 1, k.queries.length, d.queryBaselines[i]) }));
  if (env.querySort === "score") queries.sort((a, b) => b.x.score - a.x.score || a.c.rank - b.c.rank);
  const outputs = k.outputs.map((x, i) => ({ x, c: ctx("output", i + 1, k.outputs.length, d.ovRowMean) }));
  const list = (items: typeof queries, label: string, nav: string) => el("div", { class: "chips", role: "toolbar", "aria-label": label, "data-list": nav },
    ...items.map(({ x, c }, i) => chip(x, c, scale, env, `${nav}:${i}`)));
  const vis = visibleToken(k.token);
  const keyTok = el("button", { class: `key-token token${isGlyphToken(vis) ? " glyph" : ""}`, "data-id": String(k.id), "data-token": k.token, "data-nav": `key-${where}`, title: `Key ${k.token} (id ${k.id}): click to pin it everywhere` }, vis);
  keyTok.addEventListener("click", () => env.pin(k.id));
  const sortNote = env.querySort === "rule" ? "sorted by QK·p^0.1" : "sorted by QK";
  return el("article", { class: "card", "aria-label": `Key ${k.token}` },
    el("div", { class: "card-head" }, keyTok,
      el("dl", { class: "figures" },
        ...figure("importance", k.importance.toPrecision(3), FORMULAS.importance),
        ...figure("max QK", k.maxQK.toFixed(2), FORMULAS.maxQK),
        ...figure("max OV", k.maxOV.toFixed(2), FORMULAS.maxOV))),
    el("h3", { title: FORMULAS.queries }, "Queries that prefer key ", el("span", { class: "sort-note" }, `· ${sortNote}`)),
    list(queries, `Queries that prefer key ${k.token}, ${sortNote}`, `q-${where}`),
    el("h3", { title: FORMULAS.outputs }, "Effect on logits ", el("span", { class: "sort-note" }, "· sorted by OV")),
    list(outputs, `Effect of key ${k.token} on logits, sorted by OV`, `o-${where}`));
}

function chip(x: TokenScore, c: ChipContext, scale: number, env: CardEnv, nav: string): HTMLElement {
  const vis = visibleToken(x.token);
  const b = el("button", { class: `chip token${isGlyphToken(vis) ? " glyph" : ""}`, "data-id": String(x.id), "data-token": x.token, "data-nav": nav, tabindex: "-1" },
  el("span", { class: "tok" }, vis), el("span", { class: "score" }, x.score.toFixed(2)));
  b.dataset.score = String(x.score);
  b.dataset.scale = String(scale);
  if (c.kind === "query") b.dataset.rankScore = String(queryRankScore(x, c.details));
  b.style.setProperty("--chip-bg", chipColor(env.palette, x.score, scale)); // CSSOM: the CSP forbids style attributes
  const show = () => env.showTip(b, chipTooltip(x, c));
  b.addEventListener("mouseenter", show);
  b.addEventListener("focus", show);
  b.addEventListener("mouseleave", env.hideTip);
  b.addEventListener("blur", env.hideTip);
  b.addEventListener("click", () => env.pin(x.id));
  return b;
}
