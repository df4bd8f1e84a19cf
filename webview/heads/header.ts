/** The sticky bar: model, the current head, settings, query order, the head index, progress. */
import type { PanelView } from "../../src/protocol/headsPanel";
import type { ModelSummary } from "../../src/protocol/page";
import { parsePriorSpec, priorLabel, priorSpecString } from "../../src/core/priorSpec";
import { describeSettings, ReportSettings, sameSettings, SIZE_LIMITS } from "../../src/core/reportSettings";
import { el } from "../shared/dom";
import { headIndex, syncHeadIndex } from "./navigation";

export interface HeaderEnv {
  /** The fields changed: what differs from the applied settings now (empty: nothing to apply). */
  edited(draft: Draft): void;
  apply(settings: ReportSettings): void;
  cancel(): void;
  setQuerySort(sort: PanelView["querySort"]): void;
  jump(key: string): void;
}

/** What the bar shows, given to `update` after every message. */
export interface HeaderState {
  settings: ReportSettings;
  querySort: PanelView["querySort"];
  busy: boolean;
  progress?: number;
  /** The panel's heads (headKey), in order. */
  heads: string[];
  /** What the user typed or picked and has not applied (kept while heads stream in). */
  draft: Draft;
}

export interface Header {
  el: HTMLElement;
  update(st: HeaderState): void;
}

function option(value: string, text: string, selected: boolean): HTMLElement {
  const opt = el("vscode-option", { value }, text);
  if (selected) opt.setAttribute("selected", "");
  return opt;
}

function select(id: string, label: string, options: [string, string][], value: string): HTMLElement {
  const s = el("vscode-single-select", { id, "aria-label": label }, ...options.map(([v, text]) => option(v, text, v === value)));
  return el("div", { class: "control" }, el("vscode-label", { for: id }, label), s);
}

/** Field values not applied yet, as typed (a number field may hold text that is not a valid count). */
export type Draft = Partial<Record<SizeField, string>> & { priors?: string };
type SizeField = "nKeys" | "nQueries" | "nOutputs";
const SIZE_FIELDS: { id: SizeField; label: string; min: number; max: number }[] = [
  { id: "nKeys", label: "Keys", ...SIZE_LIMITS.nKeys },
  { id: "nQueries", label: "Queries", ...SIZE_LIMITS.nQueries },
  { id: "nOutputs", label: "Outputs", ...SIZE_LIMITS.nOutputs },
];

/**
 * The settings the fields ask for, or the first field that is not a valid count. A draft equal to
 * the applied settings is nothing to apply.
 */
export function readDraft(applied: ReportSettings, draft: Draft): { settings: ReportSettings } | { invalid: string } {
  const out: ReportSettings = { ...applied, prior: draft.priors !== undefined ? parsePriorSpec(draft.priors) : applied.prior };
  for (const f of SIZE_FIELDS) {
    const text = draft[f.id];
    if (text === undefined) continue;
    const v = Number(text);
    if (text.trim() === "" || !Number.isInteger(v) || v < f.min || v > f.max)
      return { invalid: `${f.label}: enter a whole number from ${f.min} to ${f.max}` };
    out[f.id] = v;
  }
  return { settings: out };
}

/**
 * The bar, built once per model. `update` changes only what differs (field values, the note, Apply,
 * Cancel, the index, the progress bar): an element the user is typing into or has focused stays.
 */
export function header(model: ModelSummary, env: HeaderEnv): Header {
  let applied: ReportSettings | undefined;
  let draft: Draft = {};
  const note = el("span", { class: "unapplied", role: "status" });
  const apply = el("vscode-button", { id: "apply" }, "Apply");
  // Fields the user changed say so, and Apply is enabled, until they are applied: the numbers in
  // the fields never pass for the settings the cards were computed with.
  const mark = (): ReportSettings | undefined => {
    const r = readDraft(applied!, draft);
    const next = "settings" in r && !sameSettings(r.settings, applied!) ? r.settings : undefined;
    apply.toggleAttribute("disabled", !next);
    const text =
      "invalid" in r ? r.invalid : next ? `Not applied yet (Apply or Enter): the cards show ${describeSettings(applied!, true)}` : "";
    if (note.textContent !== text) note.textContent = text; // a live region: said again only when it changes
    return next;
  };
  const applyNow = () => {
    const next = mark();
    if (next) env.apply(next);
  };
  apply.addEventListener("click", applyNow);
  const edited = () => {
    mark();
    env.edited({ ...draft });
  };
  const state: BarState = { applied: () => applied!, draft: () => draft, edited };
  const fields = SIZE_FIELDS.map((f) => sizeField(f, state, applyNow));
  const prior = priorControl(state);
  // The notebook ranks queries by QK·p^0.1 but shows QK: say so, and offer the shown order.
  const sort = select(
    "querySort",
    "Queries sorted by",
    [
      ["rule", "QK·p^0.1 (notebook)"],
      ["score", "QK (shown score)"],
    ],
    "rule",
  );
  const sortSelect = sort.querySelector<HTMLElement & { value: string }>("vscode-single-select")!;
  sortSelect.addEventListener("change", () => env.setQuerySort(sortSelect.value === "score" ? "score" : "rule"));
  const cancel = el("vscode-button", { id: "cancel", secondary: "" }, "Cancel");
  cancel.addEventListener("click", () => env.cancel());
  const bar = el("vscode-progress-bar", { value: "0", max: "100", "aria-label": "Analysis progress" });
  const index = headIndex();
  const controls = el("div", { class: "controls" }, ...fields.map((f) => f.control), prior.control, apply, sort);
  const current = el("p", { class: "current" }, "Viewing ", el("strong", { id: "current-head" }, "—"));
  const top = el("header", { class: "top" }, title(model, current), controls, note);
  const update = (st: HeaderState) => {
    applied = st.settings;
    draft = { ...st.draft };
    for (const f of fields) f.sync();
    prior.sync();
    if (sortSelect.value !== st.querySort) sortSelect.value = st.querySort;
    mark();
    place(controls, cancel, st.busy, sort);
    syncHeadIndex(index, st.heads, env.jump);
    place(top, index, st.heads.length > 0, st.busy ? bar : null);
    place(top, bar, st.busy, null);
    bar.setAttribute("value", String(Math.round(100 * (st.progress ?? 0))));
  };
  return { el: top, update };
}

/** Puts `child` in `parent` (before `before`, else last) when `on`, takes it out otherwise. */
function place(parent: HTMLElement, child: HTMLElement, on: boolean, before: HTMLElement | null): void {
  if (!on) child.remove();
  else if (child.parentElement !== parent) parent.insertBefore(child, before?.parentElement === parent ? before : null);
}

function title(m: ModelSummary, current: HTMLElement): HTMLElement {
  return el(
    "div",
    { class: "title" },
    el("h1", {}, m.name),
    el(
      "span",
      { class: "meta" },
      `${m.nLayers} layer${m.nLayers > 1 ? "s" : ""} · ${m.nHeads} heads · V ${m.dVocab.toLocaleString("en-US")}`,
    ),
    current,
  );
}

/** What a control of the bar reads and tells: the applied settings, the draft (edited in place), a change. */
interface BarState {
  applied(): ReportSettings;
  draft(): Draft;
  edited(): void;
}

/** A size field: shows the draft, else the applied value; `sync` leaves a field that already shows it alone. */
function sizeField(
  f: (typeof SIZE_FIELDS)[number],
  { applied, draft, edited }: BarState,
  applyNow: () => void,
): { control: HTMLElement; sync(): void } {
  const field = el("vscode-textfield", {
    id: f.id,
    type: "number",
    min: String(f.min),
    max: String(f.max),
    "aria-label": f.label,
    "data-nav": `setting-${f.id}`,
  });
  field.addEventListener("input", () => {
    const text = field.value;
    if (text === String(applied()[f.id])) delete draft()[f.id];
    else draft()[f.id] = text;
    edited();
  });
  field.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    applyNow();
  });
  const sync = () => {
    const want = draft()[f.id] ?? String(applied()[f.id]);
    if (field.value !== want) field.value = want;
  };
  return { control: el("div", { class: "control" }, el("vscode-label", { for: f.id }, f.label), field), sync };
}

/** The prior: its options are the setting's string form of each prior (the applied one and the draft's among them). */
function priorControl({ applied, draft, edited }: BarState): { control: HTMLElement; sync(): void } {
  const control = select("priors", "Prior", [], "");
  const sel = control.querySelector<HTMLElement & { value: string }>("vscode-single-select")!;
  sel.setAttribute("data-nav", "setting-priors");
  sel.addEventListener("change", () => {
    const v = sel.value;
    if (!v || v === priorSpecString(applied().prior)) delete draft().priors;
    else draft().priors = v;
    edited();
  });
  let shown = "";
  const sync = () => {
    const current = priorSpecString(applied().prior);
    const want = draft().priors ?? current;
    const options = ["bundled", "uniform", ...new Set([current, want].filter((o) => o !== "bundled" && o !== "uniform"))];
    // New options only when the list changes (an open list is not rebuilt under the pointer).
    if (options.join("\n") !== shown) {
      shown = options.join("\n");
      sel.replaceChildren(...options.map((o) => option(o, priorLabel(parsePriorSpec(o)), o === want)));
    }
    if (sel.value !== want) sel.value = want;
  };
  return { control, sync };
}
