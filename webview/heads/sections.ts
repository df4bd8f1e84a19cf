/**
 * The panel's head sections: one `<section>` per head, in model order (layer, then head), kept in a
 * map by headKey. A message changes only the sections it concerns, and a section is refilled in
 * place (never replaced): the browser then keeps the reader's place (its scroll anchor stays in the
 * page) and an element that is not refilled keeps the focus.
 */
import { headName, parseHeadKey, pathKey } from "../../src/core/heads";
import type { PathRef } from "../../src/core/report";
import type { HeadResult } from "../../src/protocol/engine";
import { el } from "../shared/dom";
import { focusedKey, initRoving, restoreFocus } from "../shared/rovingKeyboard";
import { CardEnv, fillHeadSection, fillSkeleton, newSection, setCollapsed } from "./cards";

/** Why a head shows placeholder cards: queued or running, computed under other settings, or its
 * chosen path never asked for. */
export type Why = "pending" | "outdated" | "missing";

/** What a head's section shows: the result of the path it shows under the displayed settings, or why there is none. */
export type Shown = { result: HeadResult } | { why: Why; via?: PathRef; text: string };

export interface SectionsEnv extends CardEnv {
  /** The user works in a head (focus or click in its results). */
  focusHead(layer: number, head: number): void;
  /** A section was (re)filled: its pins, and a tooltip whose chip is gone. */
  filled(sec: HTMLElement): void;
}

interface Entry {
  sec: HTMLElement;
  shown: Shown;
  /** What else the section's content was built from (see `deps`). */
  deps: unknown[];
}

/** The analysis being run, as the placeholder of the head it is at says it. */
export interface Progress {
  fraction: number;
  layer: number;
  head: number;
  via?: PathRef;
}

export function skeletonText(layer: number, head: number, via: PathRef | undefined, why: Why, progress: Progress | undefined): string {
  const path = via ? `path via ${headName(via.layer, via.head)} (${via.type.toUpperCase()}): ` : "";
  const here = progress && progress.layer === layer && progress.head === head && pathKey(progress.via) === pathKey(via);
  if (why === "missing") return `${path}not analyzed under these settings; choose it in the path bar to analyze it`;
  if (here) return `${path}analyzing… ${Math.round(100 * progress.fraction)} % of the request`;
  return path + (why === "outdated" ? "computed under other settings: waiting for the new results…" : "queued…");
}

const sameShown = (a: Shown, b: Shown) =>
  "result" in a || "result" in b
    ? "result" in a && "result" in b && a.result === b.result
    : a.why === b.why && pathKey(a.via) === pathKey(b.via);

export class HeadSections {
  readonly el = el("div", { class: "heads" });
  private readonly entries = new Map<string, Entry>();
  /** True while focus goes back into a refilled section: that is not the user choosing a head. */
  private restoring = false;

  constructor(private readonly env: SectionsEnv) {
    // Working in a head makes it the editor hover's head (the status bar shows which).
    const working = (ev: Event) => {
      const sec = (ev.target as HTMLElement).closest?.<HTMLElement>("section.head:not(.pending)");
      const ref = parseHeadKey(sec?.dataset.head);
      if (ref && !this.restoring) env.focusHead(ref.layer, ref.head);
    };
    this.el.addEventListener("focusin", working);
    this.el.addEventListener("click", working);
  }

  /** The heads shown, in order (headKey). */
  keys(): string[] {
    return [...this.el.children].map((sec) => (sec as HTMLElement).dataset.head!);
  }

  /**
   * Brings the sections in line with `want` (headKey → what it shows): adds and removes heads,
   * refills a section whose content changes, retitles a placeholder whose text alone changes.
   * Returns whether a section came, went or was refilled.
   */
  sync(want: Map<string, Shown>): boolean {
    let changed = false;
    for (const [key, e] of this.entries) {
      if (want.has(key)) continue;
      e.sec.remove();
      this.entries.delete(key);
      changed = true;
    }
    for (const [key, shown] of want) {
      const e = this.entries.get(key);
      const deps = this.deps(key);
      if (e && sameShown(e.shown, shown) && deps.every((d, i) => d === e.deps[i])) {
        if ("text" in shown && "text" in e.shown && shown.text !== e.shown.text) this.retitle(e, shown.text);
        continue;
      }
      this.fill(key, e?.sec ?? this.insert(key), shown, deps);
      changed = true;
    }
    return changed;
  }

  setCollapsed(key: string, collapsed: boolean): void {
    const e = this.entries.get(key);
    if (e) setCollapsed(e.sec, collapsed);
  }

  /** The panel's choices a section's content depends on besides its result (paths only above layer 0). */
  private deps(key: string): unknown[] {
    const e = this.env;
    return parseHeadKey(key)!.layer === 0 ? [e.querySort] : [e.querySort, e.composition, e.pathsError];
  }

  /** A new, empty section at its place in model order. */
  private insert(key: string): HTMLElement {
    const { layer, head } = parseHeadKey(key)!;
    const sec = newSection(layer, head);
    const next = [...this.el.children].find((s) => Number((s as HTMLElement).dataset.order) > Number(sec.dataset.order));
    this.el.insertBefore(sec, next ?? null);
    return sec;
  }

  /** Fills the section in place; focus inside it goes back to the element with the same data-nav key. */
  private fill(key: string, sec: HTMLElement, shown: Shown, deps: unknown[]): void {
    const focus = sec.contains(document.activeElement) ? focusedKey() : undefined;
    const { layer, head } = parseHeadKey(key)!;
    if ("result" in shown) fillHeadSection(sec, shown.result, this.env);
    else fillSkeleton(sec, layer, head, shown.text, this.env);
    this.entries.set(key, { sec, shown, deps });
    initRoving(sec);
    this.env.filled(sec);
    this.restoring = true;
    try {
      restoreFocus(focus);
    } finally {
      this.restoring = false;
    }
  }

  private retitle(e: Entry, text: string): void {
    const meta = e.sec.querySelector(".head-title .meta");
    if (meta) meta.textContent = text;
    e.shown = { ...e.shown, text } as Shown;
  }
}
