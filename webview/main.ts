/** The Head Lens panel: head sections streaming in, key cards, query and logit chips, details. */
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import type { PanelApi, PanelHostApi, PanelSettings, PanelState, ShownHead, ModelSummary } from "../src/protocol/webview";
import { sameSettings } from "../src/protocol/webview";
import { Channel } from "../src/protocol/channel";
import type { TokenScore } from "../src/core/report";
import { chipTooltip, visibleToken, scoreColor, ChipContext } from "./chips";

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): PanelState | undefined;
  setState(s: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById("app")!;
let state: PanelState | undefined = vscode.getState();
const pending = new Set<string>();
let progress: { fraction: number; layer: number; head: number } | undefined;
let status = "";

const channel = new Channel<PanelApi, PanelHostApi>({
  post: (m) => vscode.postMessage(m),
  listen: (h) => {
    const f = (ev: MessageEvent) => h(ev.data);
    window.addEventListener("message", f);
    return () => window.removeEventListener("message", f);
  },
});
const headKey = (layer: number, head: number) => `${layer}:${head}`;
const changed = () => {
  if (state) vscode.setState(state);
  render();
};

channel
  .serve("init", (m) => {
    if (!state || state.model.id !== m.model.id) state = { model: m.model, settings: m.settings, heads: [] };
    else state = { ...state, model: m.model, settings: m.settings };
    changed();
  })
  .serve("pending", (m) => {
    for (const h of m.heads) pending.add(headKey(h.layer, h.head));
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
    pending.delete(headKey(r.layer, r.head));
    state.heads = state.heads.filter((h) => !(h.report.layer === r.layer && h.report.head === r.head));
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
    requestAnimationFrame(() => document.getElementById(`head-${m.layer}-${m.head}`)?.scrollIntoView({ block: "start" }));
  });

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function render(): void {
  if (!state) {
    app.replaceChildren(el("p", { class: "empty" }, "Loading…"));
    return;
  }
  const s = state;
  // A head computed under other settings than the ones displayed is never shown as if current.
  const current = s.heads.filter((h) => h.computedWith && sameSettings(h.computedWith, s.settings));
  const stale = s.heads.filter((h) => !current.includes(h)).map((h) => headKey(h.report.layer, h.report.head));
  const sections = current.map((h) => headSection(h, s.model));
  for (const k of new Set([...pending, ...stale])) {
    if (current.some((h) => headKey(h.report.layer, h.report.head) === k)) continue;
    const [layer, head] = k.split(":").map(Number);
    sections.push(skeleton(layer, head, stale.includes(k) && !pending.has(k)));
  }
  sections.sort((a, b) => Number(a.dataset.order) - Number(b.dataset.order));
  const body = sections.length ? sections : [el("p", { class: "empty" }, "No head analyzed yet. Pick a head in the Head Lens view, or run “Head Lens: Analyze Head”.")];
  app.replaceChildren(header(s), ...(status ? [el("p", { class: "status", role: "status" }, status)] : []), ...body);
  applyPin();
}

function header(s: PanelState): HTMLElement {
  const num = (id: string, label: string, value: number, min: number) => {
    const f = el("vscode-textfield", { id, type: "number", min: String(min), value: String(value), "aria-label": label });
    return el("div", { class: "control" }, el("vscode-label", { for: id }, label), f);
  };
  const prior = el("vscode-single-select", { id: "priors", "aria-label": "Token prior" });
  const options = ["bundled", "uniform", ...(s.settings.priors !== "bundled" && s.settings.priors !== "uniform" ? [s.settings.priors] : [])];
  for (const o of options) {
    const opt = el("vscode-option", { value: o }, o === "bundled" ? "bundled corpus" : o === "uniform" ? "uniform" : `words file: ${o.split(/[\\/]/).pop()}`);
    if (o === s.settings.priors) opt.setAttribute("selected", "");
    prior.append(opt);
  }
  const apply = el("vscode-button", { id: "apply" }, "Apply");
  apply.addEventListener("click", () => {
    const read = (id: string, min: number, dflt: number) => {
      const v = Number((document.getElementById(id) as HTMLInputElement).value);
      return Number.isFinite(v) && v >= min ? Math.round(v) : dflt;
    };
    const settings: PanelSettings = {
      nKeys: read("nKeys", 1, s.settings.nKeys), nQueries: read("nQueries", 0, s.settings.nQueries), nOutputs: read("nOutputs", 0, s.settings.nOutputs),
      priors: (document.getElementById("priors") as HTMLSelectElement).value || s.settings.priors,
    };
    channel.notify("applySettings", { settings });
  });
  const busy = pending.size > 0;
  const cancel = el("vscode-button", { id: "cancel", secondary: "" }, "Cancel");
  cancel.addEventListener("click", () => channel.notify("cancel", {}));
  const bar = busy ? el("vscode-progress-bar", { value: String(Math.round(100 * (progress?.fraction ?? 0))), max: "100", "aria-label": "Analysis progress" }) : "";
  const m = s.model;
  return el("header", { class: "top" },
    el("div", { class: "title" }, el("h1", {}, m.name), el("span", { class: "meta" }, `${m.nLayers} layer${m.nLayers > 1 ? "s" : ""} · ${m.nHeads} heads · V ${m.dVocab.toLocaleString("en-US")}`)),
    el("div", { class: "controls" }, num("nKeys", "Keys", s.settings.nKeys, 1), num("nQueries", "Queries", s.settings.nQueries, 0), num("nOutputs", "Outputs", s.settings.nOutputs, 0),
      el("div", { class: "control" }, el("vscode-label", { for: "priors" }, "Prior"), prior), apply, ...(busy ? [cancel] : [])),
    bar,
  );
}

function updateProgress(): void {
  if (!progress) return;
  const pct = Math.round(100 * progress.fraction);
  document.querySelector("vscode-progress-bar")?.setAttribute("value", String(pct));
  for (const k of pending) {
    const [layer, head] = k.split(":").map(Number);
    const meta = document.querySelector(`#head-${layer}-${head} .meta`);
    if (meta) meta.textContent = progress.layer === layer && progress.head === head ? `analyzing… ${pct} % of the request` : "queued…";
  }
}

function skeleton(layer: number, head: number, outdated = false): HTMLElement {
  const here = progress && progress.layer === layer && progress.head === head;
  const what = here ? `analyzing… ${Math.round(100 * progress!.fraction)} % of the request` : outdated ? "computed under other settings: waiting for the new results…" : "queued…";
  const sec = el("section", { class: "head pending", id: `head-${layer}-${head}`, "aria-busy": "true" },
    el("h2", {}, `Head ${layer}:${head}`), el("p", { class: "meta" }, what),
    el("div", { class: "cards" }, ...[0, 1, 2].map(() => el("div", { class: "card skeleton" }))));
  sec.dataset.order = String(layer * 1000 + head);
  return sec;
}

function headSection(h: ShownHead, model: ModelSummary): HTMLElement {
  const r = h.report;
  const copy = el("vscode-button", { secondary: "", class: "copy", title: "Copy this head's report as text" }, "Copy report");
  copy.addEventListener("click", () => channel.notify("copyReport", { layer: r.layer, head: r.head }));
  const allScores = r.keys.flatMap((k) => [...k.queries, ...k.outputs].map((x) => Math.abs(x.score)));
  const scale = Math.max(1e-12, ...allScores);
  const sec = el("section", { class: "head", id: `head-${r.layer}-${r.head}` },
    el("div", { class: "head-title" }, el("h2", {}, `Head ${r.layer}:${r.head}`),
      el("span", { class: "meta" }, `${r.ep.toUpperCase()} · ${(h.elapsedMs / 1000).toFixed(2)} s${h.cached ? " (cached)" : ""} · prior: ${h.details.prior}`), copy),
    el("div", { class: "cards" }, ...r.keys.map((k, i) => keyCard(h, i, scale, model))));
  sec.dataset.order = String(r.layer * 1000 + r.head);
  sec.addEventListener("focusin", () => channel.notify("focusHead", { layer: r.layer, head: r.head }));
  sec.addEventListener("mouseenter", () => channel.notify("focusHead", { layer: r.layer, head: r.head }));
  return sec;
}

function keyCard(h: ShownHead, index: number, scale: number, model: ModelSummary): HTMLElement {
  const k = h.report.keys[index];
  const d = h.details.keys[index];
  const ctx = (kind: ChipContext["kind"], rank: number, raw: number): ChipContext => ({ kind, rank, raw, key: k.token, details: h.details, model });
  const chips = (items: TokenScore[], kind: ChipContext["kind"]) => el("div", { class: "chips", role: "list" },
    ...items.map((x, i) => chip(x, ctx(kind, i + 1, x.score + (kind === "query" ? d.queryBaselines[i] : d.ovRowMean)), scale)));
  const keyTok = el("button", { class: "key-token token", "data-id": String(k.id), "data-token": k.token, title: "Pin this token" }, visibleToken(k.token));
  keyTok.addEventListener("click", () => togglePin(k.id));
  return el("article", { class: "card", "aria-label": `Key ${k.token}` },
    el("div", { class: "card-head" }, keyTok,
      el("dl", { class: "figures" },
        el("dt", {}, "importance"), el("dd", {}, k.importance.toPrecision(3)),
        el("dt", {}, "max QK"), el("dd", {}, k.maxQK.toFixed(2)),
        el("dt", {}, "max OV"), el("dd", {}, k.maxOV.toFixed(2)))),
    el("h3", {}, "Queries that prefer key"), chips(k.queries, "query"),
    el("h3", {}, "Effect on logits"), chips(k.outputs, "output"));
}

function chip(x: TokenScore, c: ChipContext, scale: number): HTMLElement {
  const b = el("button", { class: "chip token", role: "listitem", "data-id": String(x.id), "data-token": x.token, "aria-describedby": "tip" },
    el("span", { class: "tok" }, visibleToken(x.token)), el("span", { class: "score" }, x.score.toFixed(2)));
  b.style.setProperty("--chip-bg", scoreColor(x.score, scale)); // CSSOM: the CSP forbids style attributes
  const show = () => showTip(b, chipTooltip(x, c));
  b.addEventListener("mouseenter", show);
  b.addEventListener("focus", show);
  b.addEventListener("mouseleave", hideTip);
  b.addEventListener("blur", hideTip);
  b.addEventListener("click", () => togglePin(x.id));
  return b;
}

let tip: HTMLElement | undefined;
function showTip(anchor: HTMLElement, content: HTMLElement): void {
  hideTip();
  tip = el("div", { id: "tip", class: "tooltip", role: "tooltip" }, content);
  document.body.append(tip);
  const r = anchor.getBoundingClientRect();
  const top = r.bottom + 6 + tip.offsetHeight > window.innerHeight ? r.top - tip.offsetHeight - 6 : r.bottom + 6;
  tip.style.left = `${Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4, r.left))}px`;
  tip.style.top = `${Math.max(4, top) + window.scrollY}px`;
}
function hideTip(): void {
  tip?.remove();
  tip = undefined;
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

render();
channel.notify("ready", {});
