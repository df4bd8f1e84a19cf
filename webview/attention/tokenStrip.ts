/**
 * The token strip and the position details. Hovering a token colours every token by the chosen
 * head's attention from it (CircuitsVis colored_tokens style) and lists the positions it attends to
 * most; the details show the model's top next tokens there, the actual next token's rank and
 * log-prob, and every head's direct logit attribution to it.
 */
import type { NextTokenFit, Prediction, RunToken } from "../../src/protocol/attention";
import { topKeys } from "../../src/core/patternThumbnail";
import { Palette } from "./canvasColors";
import { sequentialCell } from "../shared/sequential";
import { chipColor } from "../shared/colors";
import { el } from "../shared/dom";
import { cutToken } from "../../src/core/tokenDisplay";

export interface StripCallbacks {
  /** A token was hovered (undefined: the pointer left the strip). */
  hover(position: number | undefined): void;
  /** A token was clicked: select it in the editor. */
  choose(position: number): void;
}

export interface PositionData {
  tokens: RunToken[];
  bos: boolean;
  /** The chosen head's exact pattern and name, when fetched. */
  pattern?: { name: string; T: number; weights: Float32Array };
  top?: Prediction[][];
  next?: (NextTokenFit | null)[];
  dla?: Float32Array;
  nLayers: number;
  nHeads: number;
  /** Under an ablation: the baseline run's predictions (this data is the ablated run's). */
  baseline?: { top: Prediction[][]; next: (NextTokenFit | null)[] };
}

/** A token's text with its whitespace made visible but its line breaks kept. */
function tokenNodes(t: RunToken, i: number, bos: boolean): (Node | string)[] {
  if (i === 0 && bos) return ["⟨bos⟩"];
  const parts = cutToken(t.text).split("\n"); // cut first: a token of many lines is not many lines tall
  const out: (Node | string)[] = [];
  parts.forEach((p, k) => {
    if (k > 0) out.push(el("span", { class: "nl" }, "↵"), el("br"));
    if (p) out.push(p.replace(/\t/g, "⇥")); // whole in the token's tooltip
  });
  return out;
}

/** A token in the details: cut, whole in its tooltip. */
function tokenCode(token: string): HTMLElement {
  return el("code", { title: token }, cutToken(token));
}

export class TokenStrip {
  readonly strip: HTMLElement;
  readonly details: HTMLElement;
  private spans: HTMLElement[] = [];
  private data?: PositionData;
  private selected?: number;
  /** Each token's own background while no attention row colours the strip (under an ablation: its change in log-prob). */
  private base: { bg: string; title: string }[] = [];

  constructor(
    private palette: Palette,
    private readonly cb: StripCallbacks,
  ) {
    // A scrolling region: focusable, so that the keyboard scrolls it too.
    this.strip = el("div", { class: "strip", role: "group", tabindex: "0", "aria-label": "Tokens of the run" });
    this.details = el("div", { class: "details", "aria-live": "polite" });
    this.strip.addEventListener("mouseover", (e) => {
      const i = Number((e.target as HTMLElement).closest<HTMLElement>(".tok")?.dataset.i);
      if (Number.isInteger(i)) this.cb.hover(i);
    });
    this.strip.addEventListener("mouseleave", () => this.cb.hover(undefined));
    this.strip.addEventListener("click", (e) => {
      const i = Number((e.target as HTMLElement).closest<HTMLElement>(".tok")?.dataset.i);
      if (Number.isInteger(i)) this.cb.choose(i);
    });
  }

  /** A new run: one span per token (built once per run, then only restyled). */
  setTokens(data: PositionData): void {
    this.data = data;
    this.selected = undefined;
    this.spans = data.tokens.map((t, i) =>
      el(
        "span",
        { class: `tok${i === 0 && data.bos ? " bos" : ""}`, "data-i": String(i), title: `${i}: ${t.token} (id ${t.id})` },
        ...tokenNodes(t, i, data.bos),
      ),
    );
    this.strip.replaceChildren(...this.spans);
    this.details.replaceChildren(
      el(
        "p",
        { class: "hint" },
        "Hover a token to see what the chosen head attends to from it and what the model predicts there; click it to select it in the editor.",
      ),
    );
  }

  /** Colours each token by a signed value (under an ablation: the change in log-prob of the next token; none: plain). */
  setBase(base: { bg: string; title: string }[]): void {
    this.base = base;
    this.spans.forEach((s, i) => {
      s.dataset.delta = base[i]?.title ?? "";
      const own = s.title.split("\n")[0];
      s.title = base[i]?.title ? `${own}\n${base[i].title}` : own;
    });
    this.show(this.selected);
  }

  /** Underlines the positions a Why names as the top sources of the head's logit effect (none: clears). */
  markSources(positions: number[]): void {
    for (const s of this.spans) s.classList.remove("source");
    for (const j of positions) this.spans[j]?.classList.add("source");
  }

  /** A new theme: the details are drawn again with its colours. */
  setPalette(palette: Palette): void {
    this.palette = palette;
    if (this.selected !== undefined) this.show(this.selected);
  }

  update(patch: Partial<PositionData>): void {
    if (!this.data) return;
    Object.assign(this.data, patch);
    if (this.selected !== undefined) this.show(this.selected);
  }

  /**
   * Colours the strip by the chosen head's attention from `position` and fills the details. Under an ablation
   * the strip keeps each token's change in log-prob, except while a token or a row is `pointed` at.
   */
  show(position: number | undefined, pointed = false): void {
    const d = this.data;
    this.selected = position;
    this.spans.forEach((s, i) => {
      s.style.background = this.base[i]?.bg ?? "";
      s.style.color = "";
      s.classList.remove("query", "shaded");
    });
    if (!d || position === undefined || position >= d.tokens.length) return;
    this.spans[position].classList.add("query");
    const p = d.pattern;
    const row = p && p.T === d.tokens.length ? p.weights.subarray(position * p.T, (position + 1) * p.T) : undefined;
    if (row && (pointed || this.base.length === 0))
      for (let j = 0; j <= position; j++) {
        // The weight on the shared sequential scale, the token's text kept readable on it.
        const c = sequentialCell(this.palette.signed, row[j]);
        Object.assign(this.spans[j].style, { background: c.bg, color: c.fg });
        this.spans[j].classList.add("shaded");
      }
    const t = d.tokens[position];
    const parts: HTMLElement[] = [el("h3", { title: t.token }, `Position ${position}: ${cutToken(t.token)}`)];
    const next = d.next?.[position];
    if (next)
      parts.push(
        el(
          "p",
          { class: "next", title: next.token },
          `Actual next token ${cutToken(next.token)}: rank ${next.rank.toLocaleString("en-US")}, ` +
            `log-prob ${next.logProb.toFixed(3)} (p ${Math.exp(next.logProb).toFixed(3)})`,
        ),
      );
    else if (d.next) parts.push(el("p", { class: "next" }, "Last position: no actual next token."));
    const was = d.baseline?.next[position];
    if (next && was)
      parts.push(el("p", { class: "next baseline-next" }, `Without the ablation: log-prob ${was.logProb.toFixed(3)}, rank ${was.rank}`));
    const list = (top: Prediction[]) =>
      el("ol", { class: "top" }, ...top.map((x) => el("li", {}, tokenCode(x.token), ` ${x.p.toFixed(3)}`)));
    if (d.top?.[position] && d.baseline?.top[position])
      parts.push(
        el(
          "div",
          { class: "top-pair" },
          el("div", {}, el("h4", {}, "Top next tokens, ablated"), list(d.top[position])),
          el("div", {}, el("h4", {}, "Baseline (the model as it is)"), list(d.baseline.top[position])),
        ),
      );
    else if (d.top?.[position]) parts.push(el("h4", {}, "Top next tokens"), list(d.top[position]));
    else parts.push(el("p", { class: "hint" }, "Predictions are on their way…"));
    if (row && p) {
      const best = topKeys(row, 5);
      parts.push(
        el("h4", {}, `${p.name} attends most to`),
        el(
          "ol",
          { class: "attended" },
          ...best.map((b) =>
            el(
              "li",
              { "data-key": String(b.key), "data-weight": String(b.weight) },
              `${b.key} `,
              tokenCode(b.key === 0 && d.bos ? "⟨bos⟩" : d.tokens[b.key].token),
              ` ${b.weight.toFixed(3)}`,
            ),
          ),
        ),
      );
    } else parts.push(el("p", { class: "hint" }, "Click a head in the grid to see its attention from here."));
    if (d.dla && next) parts.push(this.dlaTable(d, position));
    this.details.replaceChildren(...parts);
  }

  private dlaTable(d: PositionData, t: number): HTMLElement {
    const L = d.nLayers,
      H = d.nHeads;
    const v = (l: number, h: number) => d.dla![(t * L + l) * H + h];
    let scale = 0;
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) scale = Math.max(scale, Math.abs(v(l, h)));
    const head = el("tr", {}, el("th", {}, ""), ...Array.from({ length: H }, (_, h) => el("th", {}, `H${h}`)));
    const rows = Array.from({ length: L }, (_, l) =>
      el(
        "tr",
        {},
        el("th", {}, `L${l}`),
        ...Array.from({ length: H }, (_, h) => {
          const x = v(l, h);
          const td = el("td", {}, `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`);
          td.style.background = chipColor(this.palette.signed, x, scale);
          return td;
        }),
      ),
    );
    return el(
      "div",
      {},
      el("h4", {}, "Direct logit attribution to the actual next token"),
      el("table", { class: "dla-table" }, head, ...rows),
    );
  }
}
