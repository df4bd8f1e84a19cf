/** The Head Lens panel: head sections streaming in, key cards, query and logit chips, details. */
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import type { PathRef } from "../../src/core/report";
import type { HeadResult } from "../../src/protocol/engine";
import type { HeadsPanelApi, HeadsPanelHostApi, PanelState, PanelView } from "../../src/protocol/headsPanel";
import { sameSettings } from "../../src/core/reportSettings";
import { headKey, headName, parseHeadKey, parsePathKey, parseResultKey, pathKey, resultKey } from "../../src/core/heads";
import { priorSpecString } from "../../src/core/priorSpec";
import { CardEnv, headSection, skeleton } from "./cards";
import { onPaletteChange, Palette, readPalette } from "../shared/colors";
import { el } from "../shared/dom";
import { Draft, header } from "./header";
import { focusedKey, initRoving, installKeyboard, restoreFocus } from "../shared/rovingKeyboard";
import { legend } from "./legend";
import { connect } from "../shared/connect";
import {
  Anchor,
  captureAnchor,
  restoreAnchor,
  scrollToHead,
  trackCurrentHead,
  trackHeaderHeight,
  updateCurrentHead,
  whenSettled,
} from "./navigation";

const { vscode, channel } = connect<PanelState, HeadsPanelApi, HeadsPanelHostApi>();
const app = document.getElementById("app")!;
let state: PanelState | undefined = vscode.getState();
/** Heads (and paths of heads) being analyzed: "layer:head|pathKey". */
const pending = new Set<string>();
let progress: { fraction: number; layer: number; head: number; via?: PathRef } | undefined;
let pathsError: string | undefined;
const pathOf = (key: string) => view().paths?.[key] ?? "";
let status = "";
/** Settings typed into the bar and not applied: a re-render (a head streaming in) keeps them. */
let draft: Draft = {};
/** A head to scroll to once it is on screen (from the tree, a command or the index). */
let revealTarget: string | undefined;
let palette: Palette = readPalette();
let rendering = false;
/** Renders whose layout has not settled yet keep the anchor of the last settled one. */
let renderGen = 0;
let unsettled: { anchor: Anchor | undefined } | undefined;
/** Where the reader was when this webview was last hidden (restored once, by the first render). */
let savedAnchor: Anchor | undefined = state?.view?.anchor;

const view = (): PanelView => (state!.view ??= { querySort: "rule", legendOpen: true, collapsed: [] });
const changed = () => {
  if (state) vscode.setState(state);
  render();
};

channel
  .serve("init", (m) => {
    if (!state || state.model.id !== m.model.id) state = { model: m.model, settings: m.settings, heads: [] };
    else state = { ...state, model: m.model, settings: m.settings };
    // What the new settings already say is no longer a change to apply.
    for (const k of ["nKeys", "nQueries", "nOutputs"] as const) if (draft[k] === String(m.settings[k])) delete draft[k];
    if (draft.priors === priorSpecString(m.settings.prior)) delete draft.priors;
    changed();
  })
  .serve("pending", (m) => {
    for (const h of m.heads) pending.add(resultKey(h, m.via));
    status = "";
    changed();
  })
  .serve("progress", (m) => {
    progress = m;
    updateProgress(); // no full re-render for progress ticks
  })
  .serve("head", ({ head }) => {
    if (!state) return;
    const r = head.report;
    pending.delete(resultKey(r, r.via));
    state.heads = state.heads.filter(
      (h) => !(h.report.layer === r.layer && h.report.head === r.head && pathKey(h.report.via) === pathKey(r.via)),
    );
    state.heads.push(head);
    state.heads.sort((a, b) => a.report.layer - b.report.layer || a.report.head - b.report.head);
    changed();
  })
  .serve("finished", (m) => {
    pending.clear();
    progress = undefined;
    status = m.cancelled ? "Analysis cancelled." : m.error ? `Analysis failed: ${m.error}` : "";
    changed();
  })
  .serve("reveal", (m) => {
    revealTarget = headKey(m);
    if (state) {
      if (m.via !== undefined) setPath(revealTarget, m.via);
      expand(revealTarget);
    }
    requestAnimationFrame(applyReveal);
  })
  .serve("paths", (m) => {
    if (!state) return;
    state.composition = m.composition;
    pathsError = m.error;
    changed();
  });

/** Which path a head shows (null: direct); persisted with the panel's view. */
function setPath(key: string, via: PathRef | null): void {
  const v = view();
  const paths = { ...(v.paths ?? {}) };
  if (via) paths[key] = pathKey(via);
  else delete paths[key];
  v.paths = paths;
  changed();
}

/** Scrolls to the head asked for; done once its results (not a placeholder) are on screen. */
function applyReveal(): void {
  // While a render settles, its own callback reveals (measuring now would use a half-built bar).
  if (unsettled || !revealTarget || !scrollToHead(revealTarget, false)) return;
  if (!document.querySelector(`section.head[data-head="${revealTarget}"]:not(.pending)`)) return;
  revealTarget = undefined;
}

function expand(key: string): void {
  const v = view();
  if (v.collapsed.includes(key)) {
    v.collapsed = v.collapsed.filter((k) => k !== key);
    changed();
  }
}

const env: CardEnv = {
  get model() {
    return state!.model;
  },
  get palette() {
    return palette;
  },
  get querySort() {
    return view().querySort;
  },
  collapsed: (key) => view().collapsed.includes(key),
  toggleCollapsed(key) {
    const v = view();
    v.collapsed = v.collapsed.includes(key) ? v.collapsed.filter((k) => k !== key) : [...v.collapsed, key];
    changed();
  },
  copy: (layer, head, via) => channel.notify("copyReport", { layer, head, ...(via ? { via } : {}) }),
  get composition() {
    return state?.composition;
  },
  get pathsError() {
    return pathsError;
  },
  selected: (layer, head) => parsePathKey(pathOf(headKey({ layer, head }))),
  // Showing a path that is not on screen under the displayed settings asks the host for it.
  select(layer, head, via) {
    setPath(headKey({ layer, head }), via ?? null);
    if (!currentResult(layer, head, via) && !pending.has(resultKey({ layer, head }, via)))
      channel.notify("analyzePath", { layer, head, ...(via ? { via } : {}) });
  },
  // Not while re-rendering: restoring focus is not the user choosing a head.
  focusHead: (layer, head) => rendering || channel.notify("focusHead", { layer, head }),
  pin: (id) => togglePin(id),
  showTip,
  hideTip,
};

function render(): void {
  hideTip();
  if (!state) {
    app.replaceChildren(el("p", { class: "empty" }, "Loading Head Lens…"));
    return;
  }
  const s = state;
  const focus = focusedKey();
  // The first render of a re-created webview goes back to where the reader was.
  const anchor = unsettled ? unsettled.anchor : (savedAnchor ?? captureAnchor());
  // A head computed under other settings than the ones displayed is never shown as if current;
  // each head shows one path (direct unless chosen), and only that path's result.
  const heads0 = new Set([...s.heads.map((h) => headKey(h.report)), ...[...pending].map((k) => headKey(parseResultKey(k)!.head))]);
  const sections: HTMLElement[] = [];
  for (const k of heads0) {
    const { layer, head } = parseHeadKey(k)!;
    const via = parsePathKey(pathOf(k));
    const h = currentResult(layer, head, via);
    if (h) {
      sections.push(headSection(h, env));
      continue;
    }
    const waiting = pending.has(resultKey({ layer, head }, via));
    const outdated = s.heads.some((x) => x.report.layer === layer && x.report.head === head && pathKey(x.report.via) === pathKey(via));
    sections.push(skeleton(layer, head, skeletonText(layer, head, via, waiting ? "pending" : outdated ? "outdated" : "missing"), env));
  }
  sections.sort((a, b) => Number(a.dataset.order) - Number(b.dataset.order));
  const heads = sections.map((sec) => {
    return parseHeadKey(sec.dataset.head)!;
  });
  const body = sections.length
    ? [...sections, el("p", { class: "end", id: "end" }, "End of the panel.")]
    : [el("p", { class: "empty" }, "No head analyzed yet. Pick a head in the Head Lens view, or run “Head Lens: Analyze Head”.")];
  const top = header(s, view(), {
    busy: pending.size > 0,
    progress: progress?.fraction,
    heads,
    draft,
    edited: (d) => (draft = d),
    apply: (settings) => channel.notify("applySettings", { settings }),
    cancel: () => channel.notify("cancel", {}),
    setQuerySort: (sort) => {
      view().querySort = sort;
      changed();
    },
    jump: (key) => {
      expand(key);
      scrollToHead(key, true);
    },
  });
  const legendEl = legend(view().legendOpen, palette, (open) => {
    view().legendOpen = open;
    vscode.setState(s);
  });
  const statusEl = el("p", { class: "status", role: "status" }, status);
  app.replaceChildren(top, legendEl, statusEl, ...body);
  initRoving(app);
  applyPin();
  rendering = true;
  try {
    restoreFocus(focus);
  } finally {
    rendering = false;
  }
  // The DOM is rebuilt: once it has its real layout, scroll to the head asked for, or keep the
  // one being read where it was.
  const gen = ++renderGen;
  unsettled = { anchor };
  void whenSettled(app).then(() => {
    if (gen !== renderGen) return;
    unsettled = undefined;
    trackHeaderHeight();
    if (revealTarget) applyReveal();
    else restoreAnchor(anchor);
    savedAnchor = undefined; // used once: a head no longer in the panel is not waited for
    updateCurrentHead();
  });
}

/** The result of a head's path computed under the settings displayed, if the panel has it. */
function currentResult(layer: number, head: number, via: PathRef | undefined): HeadResult | undefined {
  const s = state;
  return s?.heads.find(
    (h) =>
      h.report.layer === layer &&
      h.report.head === head &&
      pathKey(h.report.via) === pathKey(via) &&
      h.computedWith &&
      sameSettings(h.computedWith, s.settings),
  );
}

function skeletonText(layer: number, head: number, via: PathRef | undefined, why: "pending" | "outdated" | "missing"): string {
  const path = via ? `path via ${headName(via.layer, via.head)} (${via.type.toUpperCase()}): ` : "";
  const here = progress && progress.layer === layer && progress.head === head && pathKey(progress.via) === pathKey(via);
  if (why === "missing") return `${path}not analyzed under these settings; choose it in the path bar to analyze it`;
  return (
    path +
    (here
      ? `analyzing… ${Math.round(100 * progress!.fraction)} % of the request`
      : why === "outdated"
        ? "computed under other settings: waiting for the new results…"
        : "queued…")
  );
}

function updateProgress(): void {
  if (!progress) return;
  document.querySelector("vscode-progress-bar")?.setAttribute("value", String(Math.round(100 * progress.fraction)));
  for (const k of pending) {
    const { head: ref, via } = parseResultKey(k)!;
    const hk = headKey(ref);
    if (pathOf(hk) !== pathKey(via)) continue;
    const meta = document.querySelector(`section.pending[data-head="${hk}"] .meta`);
    if (meta) meta.textContent = skeletonText(ref.layer, ref.head, via, "pending");
  }
}

let tip: HTMLElement | undefined;
let tipAnchor: HTMLElement | undefined;
function showTip(anchor: HTMLElement, content: HTMLElement): void {
  hideTip();
  tip = el("div", { id: "tip", class: "tooltip", role: "tooltip" }, content);
  document.body.append(tip);
  tipAnchor = anchor;
  anchor.setAttribute("aria-describedby", "tip"); // only while the tooltip exists
  const r = anchor.getBoundingClientRect();
  const top = r.bottom + 6 + tip.offsetHeight > window.innerHeight ? r.top - tip.offsetHeight - 6 : r.bottom + 6;
  tip.style.left = `${Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4, r.left))}px`;
  tip.style.top = `${Math.max(4, top) + window.scrollY}px`;
}
function hideTip(): void {
  tipAnchor?.removeAttribute("aria-describedby");
  tip?.remove();
  tip = tipAnchor = undefined;
}

function togglePin(id: number): void {
  if (!state) return;
  state.pinned = state.pinned === id ? undefined : id;
  vscode.setState(state);
  applyPin();
}

function applyPin(): void {
  const id = state?.pinned;
  document.body.classList.toggle("has-pin", id !== undefined);
  for (const e of document.querySelectorAll<HTMLElement>(".token")) {
    const on = id !== undefined && e.dataset.id === String(id);
    e.classList.toggle("pinned", on);
    e.setAttribute("aria-pressed", String(on));
  }
}

// A theme change: recompute chip colours.
onPaletteChange((next) => {
  palette = next;
  render();
});

installKeyboard((key) => {
  // The skip link moves focus to the next head's skip link, or past the last head.
  const secs = [...document.querySelectorAll<HTMLElement>("section.head")];
  const next = secs[secs.findIndex((sec) => sec.dataset.head === key) + 1];
  const target = next?.querySelector<HTMLElement>("a.skip-link") ?? document.getElementById("end");
  if (!target) return;
  if (!next) target.setAttribute("tabindex", "-1");
  target.focus();
});
trackCurrentHead();
// Remember where the reader is, for when the tab comes back (the webview is re-created then).
let anchorTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener(
  "scroll",
  () => {
    clearTimeout(anchorTimer);
    anchorTimer = setTimeout(() => {
      if (!state || unsettled || savedAnchor) return; // a render is placing the page: its own position is not the reader's
      view().anchor = captureAnchor();
      vscode.setState(state);
    }, 150);
  },
  { passive: true },
);
render();
channel.notify("ready", {});
