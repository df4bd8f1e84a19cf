/** A head's section: skip link, collapsible title, path bar, key cards with query and logit chips. */
import type { PathRef, TokenScore } from "../../src/core/report";
import { headKey, headName, parseHeadKey } from "../../src/core/heads";
import type { HeadResult } from "../../src/protocol/engine";
import type { ModelSummary } from "../../src/protocol/page";
import { ChipContext, chipTooltip, queryRankScore } from "./chipTooltip";
import { isGlyphToken, visibleToken } from "../shared/tokenText";
import { cutToken } from "../../src/core/tokenDisplay";
import { chipColor, Palette } from "../shared/colors";
import { el, headId } from "../shared/dom";
import { FORMULAS, PATH_FORMULAS } from "./legend";
import { keyRole, PathEnv, pathBar, pathIntro, queriesHeading, TYPE_LETTER } from "./paths";

export interface CardEnv extends PathEnv {
  model: ModelSummary;
  palette: Palette;
  querySort: "rule" | "score";
  collapsed(key: string): boolean;
  toggleCollapsed(key: string): void;
  copy(layer: number, head: number, via?: PathRef): void;
  pin(id: number): void;
  showTip(anchor: HTMLElement, content: HTMLElement): void;
  hideTip(): void;
}

/** A head's section: created once, then filled (and refilled) in place, so that the browser keeps
 * the reader's place when it changes (a replaced element would lose its scroll anchor). */
export function newSection(layer: number, head: number): HTMLElement {
  const sec = el("section", { class: "head", id: headId(layer, head), "aria-labelledby": `title-${layer}-${head}` });
  sec.dataset.order = String(layer * 1000 + head);
  sec.dataset.head = headKey({ layer, head });
  return sec;
}

/** Shows or hides a head's cards (and path bar) where they are, without rebuilding the section. */
export function setCollapsed(sec: HTMLElement, collapsed: boolean): void {
  const ref = parseHeadKey(sec.dataset.head)!;
  const name = headName(ref.layer, ref.head);
  sec.classList.toggle("collapsed", collapsed);
  const body = sec.querySelector<HTMLElement>(":scope > .head-body");
  if (body) body.hidden = collapsed;
  const toggle = sec.querySelector<HTMLElement>("button.toggle");
  toggle?.setAttribute("aria-expanded", String(!collapsed));
  toggle?.setAttribute("title", collapsed ? `Show ${name}` : `Collapse ${name}`);
  const chevron = sec.querySelector(".chevron");
  if (chevron) chevron.textContent = collapsed ? "▸" : "▾";
}

/** Fills the section: a skip link to what follows, the title (a disclosure button), meta, the body. */
function frame(
  sec: HTMLElement,
  layer: number,
  head: number,
  env: CardEnv,
  meta: HTMLElement,
  extra: HTMLElement[],
  body: HTMLElement,
  pending: boolean,
): void {
  const key = headKey({ layer, head });
  const name = headName(layer, head);
  const toggle = el(
    "button",
    { class: "toggle", "aria-controls": `cards-${layer}-${head}`, "data-nav": `toggle-${key}` },
    el("span", { class: "chevron", "aria-hidden": "true" }),
    name,
  );
  toggle.addEventListener("click", () => env.toggleCollapsed(key));
  const skip = el("a", { class: "skip-link", href: "#", "data-skip": key, "data-nav": `skip-${key}` }, `Skip ${name}`);
  // The path bar, what the shown path means, then its cards: all hidden with the head.
  const paths = pathBar(layer, head, env);
  const wrap = el("div", { class: "head-body", id: `cards-${layer}-${head}` }, ...(paths ? [paths] : []), body);
  sec.classList.toggle("pending", pending);
  if (pending) sec.setAttribute("aria-busy", "true");
  else sec.removeAttribute("aria-busy");
  delete sec.dataset.path;
  sec.replaceChildren(skip, el("div", { class: "head-title" }, el("h2", { id: `title-${layer}-${head}` }, toggle), meta, ...extra), wrap);
  setCollapsed(sec, env.collapsed(key));
}

export function fillSkeleton(sec: HTMLElement, layer: number, head: number, what: string, env: CardEnv): void {
  frame(
    sec,
    layer,
    head,
    env,
    el("span", { class: "meta" }, what),
    [],
    el("div", { class: "cards" }, ...[0, 1, 2].map(() => el("div", { class: "card skeleton", "aria-hidden": "true" }))),
    true,
  );
}

export function fillHeadSection(sec: HTMLElement, h: HeadResult, env: CardEnv): void {
  const r = h.report;
  const via = r.via;
  const what = via
    ? `${headName(r.layer, r.head)}'s path via ${headName(via.layer, via.head)} (${TYPE_LETTER[via.type]})`
    : `${headName(r.layer, r.head)}'s`;
  const copy = el(
    "vscode-button",
    { secondary: "", class: "copy", title: `Copy ${what} report as text`, "data-nav": `copy-${r.layer}:${r.head}` },
    "Copy report",
  );
  copy.addEventListener("click", () => env.copy(r.layer, r.head, via));
  const allScores = r.keys.flatMap((k, i) =>
    [...k.queries, ...k.outputs, ...(h.details.keys[i]?.suppressed ?? [])].map((x) => Math.abs(x.score)),
  );
  const scale = Math.max(1e-12, ...allScores);
  const meta = el(
    "span",
    { class: "meta" },
    `${via ? `via ${headName(via.layer, via.head)} (${TYPE_LETTER[via.type]}) · ` : ""}` +
      `${r.ep.toUpperCase()} · ${(h.elapsedMs / 1000).toFixed(2)} s${h.cached ? " (cached)" : ""} · `,
    el("abbr", { title: FORMULAS.prior }, "prior"),
    `: ${h.details.prior}`,
  );
  const cards = el("div", { class: "cards" }, ...r.keys.map((_, i) => keyCard(h, i, scale, env)));
  const body = via ? el("div", {}, pathIntro(via, r.diagonal, env.model.dVocab), cards) : cards;
  frame(sec, r.layer, r.head, env, meta, [copy], body, false);
  if (via) sec.dataset.path = `${via.layer}:${via.head}:${via.type}`;
}

function figure(term: string, value: string, formula: string): HTMLElement[] {
  return [el("dt", {}, el("abbr", { title: formula }, term)), el("dd", { title: formula }, value)];
}

function keyCard(h: HeadResult, index: number, scale: number, env: CardEnv): HTMLElement {
  const k = h.report.keys[index];
  const d = h.details.keys[index];
  const via = h.report.via;
  const where = `${h.report.layer}:${h.report.head}:${index}`;
  const ctx = (kind: ChipContext["kind"], rank: number, of: number, baseline: number): ChipContext => ({
    kind,
    rank,
    of,
    baseline,
    key: k.token,
    details: h.details,
    model: env.model,
  });
  const queries = k.queries.map((x, i) => ({ x, c: ctx("query", i + 1, k.queries.length, d.queryBaselines[i]) }));
  if (env.querySort === "score") queries.sort((a, b) => b.x.score - a.x.score || a.c.rank - b.c.rank);
  const outputs = k.outputs.map((x, i) => ({ x, c: ctx("output", i + 1, k.outputs.length, d.ovRowMean) }));
  const suppressed = (d.suppressed ?? []).map((x, i) => ({ x, c: ctx("suppressed", i + 1, d.suppressed!.length, d.ovRowMean) }));
  const list = (items: typeof queries, label: string, nav: string) =>
    el(
      "div",
      { class: "chips", role: "toolbar", "aria-label": label, "data-list": nav },
      ...items.map(({ x, c }, i) => chip(x, c, scale, env, `${nav}:${i}`, x.id === k.id)),
    );
  const vis = visibleToken(k.token);
  const keyTok = el(
    "button",
    {
      class: `key-token token${isGlyphToken(vis) ? " glyph" : ""}`,
      "data-id": String(k.id),
      "data-token": k.token,
      "data-nav": `key-${where}`,
      title: `Key ${k.token} (id ${k.id}): click to pin it everywhere`,
    },
    cutToken(vis),
  );
  keyTok.addEventListener("click", () => env.pin(k.id));
  const sortNote = env.querySort === "rule" ? "sorted by QK·p^0.1" : "sorted by QK";
  const formulas = via ? PATH_FORMULAS[via.type] : FORMULAS;
  const figures = [
    ...figure("importance", k.importance.toPrecision(3), formulas.importance),
    ...(Number.isFinite(k.maxQK) ? figure("max QK", k.maxQK.toFixed(2), formulas.maxQK) : []),
    ...(Number.isFinite(k.maxOV) ? figure("max OV", k.maxOV.toFixed(2), formulas.maxOV) : []),
  ];
  // Under the key: what it is on a path, and where its own token ranks among its outputs (copying).
  const role = keyRole(via);
  const notes = [
    ...(role ? [el("span", { class: "key-role" }, role)] : []),
    ...(d.selfOutputRank !== undefined
      ? [
          el(
            "span",
            { class: "self-rank", title: FORMULAS.selfOutputRank },
            el("abbr", { title: FORMULAS.selfOutputRank }, "own-output rank"),
            ` ${d.selfOutputRank.toLocaleString("en-US")}${d.selfOutputRank === 0 ? " (copies itself)" : ""}`,
          ),
        ]
      : []),
  ];
  const parts: HTMLElement[] = [
    el("div", { class: "card-head" }, el("div", { class: "key-wrap" }, keyTok, ...notes), el("dl", { class: "figures" }, ...figures)),
  ];
  if (via?.type !== "v") {
    parts.push(
      el("h3", { title: FORMULAS.queries }, queriesHeading(via), el("span", { class: "sort-note" }, `· ${sortNote}`)),
      list(queries, `${queriesHeading(via)}${cutToken(k.token)}, ${sortNote}`, `q-${where}`),
    );
  }
  if (via?.type !== "k") {
    parts.push(
      el("h3", { title: FORMULAS.outputs }, "Effect on logits ", el("span", { class: "sort-note" }, "· sorted by OV")),
      list(outputs, `Effect of key ${cutToken(k.token)} on logits, sorted by OV`, `o-${where}`),
    );
    if (suppressed.length) {
      parts.push(
        el("h3", { title: FORMULAS.suppressed }, "Suppressed ", el("span", { class: "sort-note" }, "· most negative OV first")),
        list(suppressed, `Outputs key ${cutToken(k.token)} suppresses most, most negative first`, `s-${where}`),
      );
    }
  }
  return el("article", { class: "card", "aria-label": `Key ${cutToken(k.token)}` }, ...parts);
}

function chip(x: TokenScore, c: ChipContext, scale: number, env: CardEnv, nav: string, same: boolean): HTMLElement {
  const vis = visibleToken(x.token);
  // The key's own token among its queries or outputs: marked, in words for screen readers too.
  const mark = same
    ? [el("span", { class: "same-mark", "aria-hidden": "true" }, "=key"), el("span", { class: "sr-only" }, "(the key itself) ")]
    : [];
  const b = el(
    "button",
    {
      class: `chip token${isGlyphToken(vis) ? " glyph" : ""}${same ? " same" : ""}`,
      "data-id": String(x.id),
      "data-token": x.token,
      "data-nav": nav,
      tabindex: "-1",
    },
    ...mark,
    el("span", { class: "tok" }, cutToken(vis)), // whole in the chip's tooltip
    el("span", { class: "score" }, x.score.toFixed(2)),
  );
  b.dataset.score = String(x.score);
  b.dataset.scale = String(scale);
  if (c.kind === "query") b.dataset.rankScore = String(queryRankScore(x, c.details));
  paintChip(b, env.palette);
  const show = () => env.showTip(b, chipTooltip(x, c));
  b.addEventListener("mouseenter", show);
  b.addEventListener("focus", show);
  b.addEventListener("mouseleave", env.hideTip);
  b.addEventListener("blur", env.hideTip);
  b.addEventListener("click", () => env.pin(x.id));
  return b;
}

/** A chip's background from its score (CSSOM: the CSP forbids style attributes). */
function paintChip(chip: HTMLElement, palette: Palette): void {
  chip.style.setProperty("--chip-bg", chipColor(palette, Number(chip.dataset.score), Number(chip.dataset.scale)));
}

/** A theme change: every chip takes the new palette where it is (nothing is rebuilt). */
export function recolorChips(root: ParentNode, palette: Palette): void {
  for (const chip of root.querySelectorAll<HTMLElement>(".chip")) paintChip(chip, palette);
}
