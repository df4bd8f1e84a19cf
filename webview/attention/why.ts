/**
 * The Why section of the enlarged head (issue #22): for one cell (query i, key j) its score and
 * weight, the terms that most favour this key over the others (each as query part × key part, each
 * part named with the token it carries), every pair of parts as a heatmap (whyHeatmap.ts), and the
 * head's logit effect at the query split by source token. Every earlier head's part is a link (its
 * own Why there, its composition path with this head); a token's part puts the editor's cursor on it.
 * Model text is set as text only.
 */
import type { RunToken } from "../../src/protocol/attention";
import type { ExplainResult } from "../../src/protocol/explain";
import type { PathRef } from "../../src/core/report";
import { headName } from "../../src/core/heads";
import { cutToken } from "../../src/core/tokenDisplay";
import { partAt, TOP_SOURCES, topSources } from "../../src/core/whyParts";
import { keySideTotals, partLabel, signed, topTerms, WhyView } from "../../src/core/whyText";
import { Palette } from "../shared/colors";
import { el } from "../shared/dom";
import { whyHeatmap } from "./whyHeatmap";

/** How many terms the section lists. */
const TOP_TERMS = 5;

export interface WhyCallbacks {
  /** An earlier head's part: that head's Why from `query` to `key` (where the part sits, and the token it moved). */
  why(layer: number, head: number, query: number, key: number): void;
  /** An earlier head's part: the explained head's path through it (K on the key side, Q on the query side). */
  openPath(via: PathRef): void;
  /** A token's part or a source: put the editor's cursor on it. */
  reveal(position: number): void;
}

export class WhySection {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly title: HTMLElement;
  /** Says, to a screen reader, that a Why has arrived (the section's content replaces "Explaining…" silently). */
  private readonly announce: HTMLElement;

  constructor(private readonly cb: WhyCallbacks) {
    this.title = el("h2", { id: "why-title" }, "Why");
    this.body = el("div", { class: "why-body" });
    this.announce = el("p", { class: "sr-only", role: "status" });
    this.root = el("section", { class: "why", hidden: "", "aria-labelledby": "why-title" }, this.title, this.announce, this.body);
  }

  hide(): void {
    this.root.hidden = true;
    this.title.textContent = "Why";
    this.body.replaceChildren();
    this.announce.textContent = "";
    this.forget();
  }

  /** The section names no explained cell (none shown, or one on its way). */
  private forget(): void {
    for (const k of ["layer", "head", "query", "key", "ms"]) delete this.root.dataset[k];
  }

  /** Says that a Why is on its way (or failed), keeping the title of the cell asked for. */
  note(text: string, tokens: RunToken[], bos: boolean, head?: string, query?: number, key?: number): void {
    if (head !== undefined && query !== undefined) {
      this.title.textContent = this.heading(head, query, key, tokens, bos);
      this.forget();
    }
    this.body.replaceChildren(el("p", { class: "hint", role: "status" }, text));
    this.root.hidden = false;
  }

  /** No key: the query's strongest, which the engine is still finding. */
  private heading(head: string, query: number, key: number | undefined, tokens: RunToken[], bos: boolean): string {
    const tok = (p: number) => name(tokens, bos, p);
    return `Why ${head} attends from ${query} ${tok(query)}` + (key === undefined ? "" : ` to ${key} ${tok(key)}`);
  }

  /** Renders one explained cell (its first and only key). */
  show(r: ExplainResult, tokens: RunToken[], bos: boolean, palette: Palette): void {
    const head = headName(r.layer, r.head);
    const k = 0,
      key = r.keys[k],
      i = r.query;
    this.title.textContent = this.heading(head, i, key, tokens, bos);
    Object.assign(this.root.dataset, { layer: String(r.layer), head: String(r.head), query: String(i), key: String(key) });
    // The words are the CLI's (whyText.ts), tokens as the panel shows them.
    const view: WhyView = {
      tokens: tokens.map((_, p) => name(tokens, bos, p)),
      components: r.components,
      movedAtQuery: r.movedAtQuery,
      movedAtKey: r.movedAtKeys[k],
      query: i,
      key,
    };
    const C = r.components.length;
    const slice = (a: Float64Array) => a.subarray(k * C * C, (k + 1) * C * C);
    const totals = keySideTotals(slice(r.relative), C);
    const best = totals.indexOf(Math.max(...totals));
    this.announce.textContent = `${this.title.textContent}: score ${signed(r.scores[k], 2)}, weight ${r.weights[k].toFixed(3)}`;
    const score = el(
      "p",
      { class: "why-score", "data-score": String(r.scores[k]), "data-weight": String(r.weights[k]) },
      `Score ${signed(r.scores[k], 3)} (q·k/√d_head) · weight ${r.weights[k].toFixed(4)}`,
    );
    const terms = topTerms(slice(r.terms), slice(r.relative), C, TOP_TERMS).map((t) =>
      el(
        "li",
        { "data-row": r.components[t.q], "data-col": r.components[t.k], "data-relative": String(t.relative), "data-term": String(t.term) },
        el("span", { class: "num" }, signed(t.relative)),
        " query ← ",
        this.part(view, t.q, "query"),
        " × key ← ",
        this.part(view, t.k, "key"),
        el("span", { class: "hint" }, ` (term ${signed(t.term)})`),
      ),
    );
    const topKey = el(
      "p",
      { class: "why-top-key", "data-component": r.components[best], "data-total": String(totals[best]) },
      "Key-side part that favours this key most (all its terms): ",
      this.part(view, best, "key"),
      ` ${signed(totals[best])}`,
    );
    // A query that sees one key: no other key to compare with, every relative term is 0.
    const alone = el("p", { class: "why-alone" }, `Position ${i} sees only itself: no other key to compare with, so nothing favours it.`);
    this.body.replaceChildren(
      score,
      el("h3", {}, "What favours this key"),
      ...(i === 0 ? [alone] : []),
      el(
        "p",
        { class: "hint" },
        `Terms are ranked by what they add to this key's score relative to the other keys (the term minus its mean over keys 0…${i}): ` +
          "a term equal at every key does not move the softmax.",
      ),
      ...(i === 0 ? [] : [topKey, el("ol", { class: "why-terms" }, ...terms)]),
      el("h3", {}, "Every pair of parts"),
      el(
        "p",
        { class: "hint" },
        "Each cell is what one query part × key part adds to this key's score relative to the other keys " +
          "(rows: the query's parts, columns: the key's parts; blue raises it, red lowers it).",
      ),
      whyHeatmap(
        r,
        k,
        palette,
        (c) => partLabel(view, c, "query"),
        (c) => partLabel(view, c, "key"),
      ),
      ...this.sources(r, head, tokens, bos),
    );
    this.root.hidden = false;
  }

  /** A part in words; an earlier head's part links to its own Why there and to the path through it. */
  private part(view: WhyView, c: number, side: "query" | "key"): HTMLElement {
    const text = partLabel(view, c, side);
    const p = partAt(view.components, c, side === "query" ? view.query : view.key, side === "query" ? view.movedAtQuery : view.movedAtKey);
    if (p.kind === "bias") return el("span", { class: "part" }, text);
    if (p.kind !== "head") {
      const b = el("button", { class: "link part", title: `Put the editor's cursor on position ${p.position}` }, text);
      b.addEventListener("click", () => this.cb.reveal(p.position));
      return b;
    }
    const h = p.head!;
    const why = el(
      "button",
      { class: "link part", title: `Why ${p.component} attends from ${p.position} to ${p.carries}: enlarge it and explain that cell` },
      text,
    );
    why.addEventListener("click", () => this.cb.why(h.layer, h.head, p.position, p.carries!));
    const kind = side === "key" ? "K" : "Q";
    const path = el(
      "button",
      {
        class: "link path",
        title: `Open the ${kind}-composition path through ${p.component} in the heads panel`,
        "aria-label": `${kind} path: the ${kind}-composition path through ${p.component}`,
      },
      `${kind} path`,
    );
    path.addEventListener("click", () => this.cb.openPath({ layer: h.layer, head: h.head, type: side === "key" ? "k" : "q" }));
    return el("span", { class: "part" }, why, " ", path);
  }

  private sources(r: ExplainResult, head: string, tokens: RunToken[], bos: boolean): HTMLElement[] {
    const heading = el("h3", {}, "Logit effect at this position");
    if (!r.sources || r.dla === null)
      return [heading, el("p", { class: "hint" }, "The last position has no actual next token: there is no logit effect to split.")];
    const top = topSources(r.sources, TOP_SOURCES);
    const rest = r.dla - top.reduce((s, j) => s + r.sources![j], 0);
    const items = top.map((j) => {
      const b = el("button", { class: "link", title: `Put the editor's cursor on position ${j}` }, `${j} ${name(tokens, bos, j)}`);
      b.addEventListener("click", () => this.cb.reveal(j));
      return el(
        "li",
        { "data-position": String(j), "data-dla": String(r.sources![j]) },
        el("span", { class: "num" }, signed(r.sources![j])),
        " from ",
        b,
      );
    });
    return [
      heading,
      el(
        "p",
        { class: "hint" },
        `${head}'s direct logit attribution here (its output's effect on the actual next token's logit) is the sum over the tokens it ` +
          "reads from: each one's attention weight × its value's effect. The largest are underlined in the token strip and the editor.",
      ),
      el(
        "p",
        { class: "why-dla", "data-dla": String(r.dla) },
        `${signed(r.dla)} on the next token ${name(tokens, false, r.query + 1)}, from:`,
      ),
      el("ol", { class: "why-sources" }, ...items),
      el("p", { class: "hint" }, `${signed(rest)} from the other ${r.sources.length - top.length} positions.`),
    ];
  }
}

/** A token in a sentence: as the strip's tooltips show it (quoted), cut, BOS by name. */
function name(tokens: RunToken[], bos: boolean, p: number): string {
  if (p === 0 && bos) return "⟨bos⟩";
  const t = tokens[p];
  return t ? cutToken(t.token) : "";
}
