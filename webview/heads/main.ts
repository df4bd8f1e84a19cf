/**
 * The Head Lens panel: head sections streaming in, key cards, query and logit chips, details. The
 * page is built once per model (the bar, the legend, the status line, the head sections, the end
 * marker); each message then updates only what it concerns (sections.ts, Header.update).
 */
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import type { PathRef } from "../../src/core/report";
import type { HeadResult } from "../../src/protocol/engine";
import type { HeadsPanelApi, HeadsPanelHostApi, PanelState, PanelView } from "../../src/protocol/headsPanel";
import { sameSettings, savedSettings } from "../../src/core/reportSettings";
import { headKey, parseHeadKey, parsePathKey, parseResultKey, pathKey, resultKey } from "../../src/core/heads";
import { priorSpecString } from "../../src/core/priorSpec";
import { recolorChips } from "./cards";
import { hideOrphanTip, hideTip, showTip } from "./chipTooltip";
import { onPaletteChange, Palette, readPalette } from "../shared/colors";
import { el } from "../shared/dom";
import { Draft, Header, header } from "./header";
import { installKeyboard } from "../shared/rovingKeyboard";
import { legend, paintSwatch } from "./legend";
import { connect } from "../shared/connect";
import { HeadSections, Progress, SectionsEnv, Shown, skeletonText } from "./sections";
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
let state: PanelState | undefined = savedState(vscode.getState());
/** Heads (and paths of heads) being analyzed: "layer:head|pathKey". */
const pending = new Set<string>();
let progress: Progress | undefined;
let pathsError: string | undefined;
const pathOf = (key: string) => view().paths?.[key] ?? "";
let status = "";
/** Settings typed into the bar and not applied: heads streaming in keep them. */
let draft: Draft = {};
/** A head to scroll to once it is on screen (from the tree, a command or the index). */
let revealTarget: string | undefined;
let palette: Palette = readPalette();
/** Where the reader was when this webview was last hidden (restored once, when the new page has settled). */
let savedAnchor: Anchor | undefined = state?.view?.anchor;
/** The page, built once per model. `placing`: its first layout is not final yet. */
interface Page {
  model: string;
  header: Header;
  legend: HTMLElement;
  status: HTMLElement;
  sections: HeadSections;
  /** "No head analyzed yet", or the end marker after the heads. */
  empty: HTMLElement;
  end: HTMLElement;
}
let page: Page | undefined;
let placing = false;

const view = (): PanelView => (state!.view ??= { querySort: "rule", legendOpen: true, collapsed: [] });
const save = () => state && vscode.setState(state);
const changed = () => {
  save();
  refresh();
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
    refresh(); // the progress bar and the running head's placeholder text, in place
  })
  .serve("head", ({ head }) => {
    if (!state) return;
    const r = head.report;
    pending.delete(resultKey(r, r.via));
    state.heads = state.heads.filter(
      (h) => !(h.report.layer === r.layer && h.report.head === r.head && pathKey(h.report.via) === pathKey(r.via)),
    );
    state.heads.push(head);
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
      setCollapsed(revealTarget, false);
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
  // While the new page settles, its own callback reveals (measuring now would use a half-built bar).
  if (placing || !revealTarget || !scrollToHead(revealTarget, false)) return;
  if (!document.querySelector(`section.head[data-head="${revealTarget}"]:not(.pending)`)) return;
  revealTarget = undefined;
}

/** Collapses or expands a head where it is (its section is not rebuilt). */
function setCollapsed(key: string, collapsed: boolean): void {
  const v = view();
  if (v.collapsed.includes(key) === collapsed) return;
  v.collapsed = collapsed ? [...v.collapsed, key] : v.collapsed.filter((k) => k !== key);
  save();
  page?.sections.setCollapsed(key, collapsed);
  updateCurrentHead();
}

const env: SectionsEnv = {
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
  toggleCollapsed: (key) => setCollapsed(key, !view().collapsed.includes(key)),
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
    const current = shownResults().get(resultKey({ layer, head }, via));
    if (!current && !pending.has(resultKey({ layer, head }, via))) channel.notify("analyzePath", { layer, head, ...(via ? { via } : {}) });
  },
  focusHead: (layer, head) => channel.notify("focusHead", { layer, head }),
  pin: (id) => togglePin(id),
  showTip,
  hideTip,
  filled(sec) {
    applyPin(sec);
    hideOrphanTip();
  },
};

/** Brings the page in line with the state: only what changed is touched. */
function refresh(): void {
  if (!state) return; // the shell says "Loading Head Lens…" until the host's init
  const fresh = page?.model !== state.model.id;
  if (fresh) build();
  const p = page!;
  const moved = p.sections.sync(wanted());
  const heads = p.sections.keys();
  p.header.update({
    settings: state.settings,
    querySort: view().querySort,
    busy: pending.size > 0,
    progress: progress?.fraction,
    heads,
    draft,
  });
  if (p.status.textContent !== status) p.status.textContent = status; // a live region: said again only when it changes
  p.empty.hidden = heads.length > 0;
  p.end.hidden = heads.length === 0;
  if (fresh) void whenSettled(app).then(placed);
  else if (moved) {
    updateCurrentHead();
    if (revealTarget) requestAnimationFrame(applyReveal);
  }
}

/** The page's skeleton for the state's model (once per model). */
function build(): void {
  const s = state!;
  const top = header(s.model, {
    edited: (d) => (draft = d),
    apply: (settings) => channel.notify("applySettings", { settings }),
    cancel: () => channel.notify("cancel", {}),
    setQuerySort: (sort) => {
      view().querySort = sort;
      changed();
    },
    jump: (key) => {
      setCollapsed(key, false);
      scrollToHead(key, true);
    },
  });
  const legendEl = legend(view().legendOpen, palette, (open) => {
    view().legendOpen = open;
    save();
  });
  page = {
    model: s.model.id,
    header: top,
    legend: legendEl,
    status: el("p", { class: "status", role: "status" }),
    sections: new HeadSections(env),
    empty: el("p", { class: "empty" }, "No head analyzed yet. Pick a head in the Head Lens view, or run “Head Lens: Analyze Head”."),
    end: el("p", { class: "end", id: "end" }, "End of the panel."),
  };
  app.replaceChildren(top.el, legendEl, page.status, page.empty, page.sections.el, page.end);
  trackHeaderHeight();
  placing = true;
}

/** The new page has its real layout: go to the head asked for, or back to where the reader was. */
function placed(): void {
  placing = false;
  if (revealTarget) applyReveal();
  else restoreAnchor(savedAnchor);
  savedAnchor = undefined; // used once: a head no longer in the panel is not waited for
  updateCurrentHead();
}

/** Results under the displayed settings, by resultKey (one computed under others is never shown as current). */
function shownResults(): Map<string, HeadResult> {
  const s = state!;
  return new Map(
    s.heads.filter((h) => h.computedWith && sameSettings(h.computedWith, s.settings)).map((h) => [resultKey(h.report, h.report.via), h]),
  );
}

/** What each head's section shows: the result of its path (direct unless chosen), else why there is none. */
function wanted(): Map<string, Shown> {
  const s = state!;
  const current = shownResults();
  const computed = new Set(s.heads.map((h) => resultKey(h.report, h.report.via)));
  const keys = new Set([...s.heads.map((h) => headKey(h.report)), ...[...pending].map((k) => headKey(parseResultKey(k)!.head))]);
  const out = new Map<string, Shown>();
  for (const key of keys) {
    const ref = parseHeadKey(key)!;
    const via = parsePathKey(pathOf(key));
    const rk = resultKey(ref, via);
    const result = current.get(rk);
    if (result) {
      out.set(key, { result });
      continue;
    }
    const why = pending.has(rk) ? "pending" : computed.has(rk) ? "outdated" : "missing";
    out.set(key, { why, via, text: skeletonText(ref.layer, ref.head, via, why, progress) });
  }
  return out;
}

function togglePin(id: number): void {
  if (!state) return;
  state.pinned = state.pinned === id ? undefined : id;
  save();
  applyPin(document);
}

/** Marks the pinned token's chips in `root` (the page, or a section just filled). */
function applyPin(root: ParentNode): void {
  const id = state?.pinned;
  document.body.classList.toggle("has-pin", id !== undefined);
  for (const e of root.querySelectorAll<HTMLElement>(".token")) {
    const on = id !== undefined && e.dataset.id === String(id);
    e.classList.toggle("pinned", on);
    e.setAttribute("aria-pressed", String(on));
  }
}

// A theme change: chips and the legend's scale take the new colours where they are.
onPaletteChange((next) => {
  palette = next;
  if (!page) return;
  recolorChips(page.sections.el, palette);
  const swatch = page.legend.querySelector<HTMLElement>(".swatch");
  if (swatch) paintSwatch(swatch, palette);
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
      if (!state || placing) return; // the new page is being placed: its position is not the reader's
      view().anchor = captureAnchor();
      save();
    }, 150);
  },
  { passive: true },
);
refresh();
channel.notify("ready", {});

/** The state this page saved, read as today's (a state of an earlier version: its settings without a
 * parsed prior), or nothing when it cannot be read. */
function savedState(saved: PanelState | undefined): PanelState | undefined {
  const settings = savedSettings(saved?.settings);
  if (!saved || !settings) return undefined;
  const heads = saved.heads.flatMap((h) => {
    const computedWith = savedSettings(h.computedWith);
    return computedWith ? [{ ...h, computedWith }] : [];
  });
  return { ...saved, settings, heads };
}
