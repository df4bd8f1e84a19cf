/** The sticky bar: model, the current head, settings, query order, the head index, progress. */
import type { PanelState, PanelView } from "../../src/protocol/headsPanel";
import { parsePriorSpec, priorLabel, priorSpecString } from "../../src/core/priorSpec";
import { describeSettings, ReportSettings, sameSettings, SIZE_LIMITS } from "../../src/core/reportSettings";
import { el } from "../shared/dom";
import { headIndex } from "./navigation";

export interface HeaderEnv {
  busy: boolean;
  progress?: number;
  heads: { layer: number; head: number }[];
  /** What the user typed or picked and has not applied (kept across re-renders). */
  draft: Draft;
  /** The fields changed: what differs from the applied settings now (empty: nothing to apply). */
  edited(draft: Draft): void;
  apply(settings: ReportSettings): void;
  cancel(): void;
  setQuerySort(sort: PanelView["querySort"]): void;
  jump(key: string): void;
}

function select(id: string, label: string, options: [string, string][], value: string): HTMLElement {
  const s = el("vscode-single-select", { id, "aria-label": label });
  for (const [v, text] of options) {
    const opt = el("vscode-option", { value: v }, text);
    if (v === value) opt.setAttribute("selected", "");
    s.append(opt);
  }
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

export function header(s: PanelState, view: PanelView, env: HeaderEnv): HTMLElement {
  const draft: Draft = { ...env.draft };
  const note = el("span", { class: "unapplied", role: "status" });
  const apply = el("vscode-button", { id: "apply" }, "Apply");
  // Fields the user changed say so, and Apply is enabled, until they are applied: the numbers in
  // the fields never pass for the settings the cards were computed with.
  const mark = (): ReportSettings | undefined => {
    const r = readDraft(s.settings, draft);
    const next = "settings" in r && !sameSettings(r.settings, s.settings) ? r.settings : undefined;
    apply.toggleAttribute("disabled", !next);
    note.textContent =
      "invalid" in r ? r.invalid : next ? `Not applied yet (Apply or Enter): the cards show ${describeSettings(s.settings, true)}` : "";
    return next;
  };
  const applyNow = () => {
    const next = mark();
    if (next) env.apply(next);
  };
  apply.addEventListener("click", applyNow);
  const num = (f: (typeof SIZE_FIELDS)[number]) => {
    const field = el("vscode-textfield", {
      id: f.id,
      type: "number",
      min: String(f.min),
      max: String(f.max),
      value: draft[f.id] ?? String(s.settings[f.id]),
      "aria-label": f.label,
      "data-nav": `setting-${f.id}`,
    });
    field.addEventListener("input", () => {
      const text = field.value;
      if (text === String(s.settings[f.id])) delete draft[f.id];
      else draft[f.id] = text;
      mark();
      env.edited({ ...draft });
    });
    field.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter") return;
      ev.preventDefault();
      applyNow();
    });
    return el("div", { class: "control" }, el("vscode-label", { for: f.id }, f.label), field);
  };
  // The select's values are the setting's string form of each prior.
  const applied = priorSpecString(s.settings.prior);
  const priors = ["bundled", "uniform", ...new Set([applied, draft.priors ?? "bundled"].filter((o) => o !== "bundled" && o !== "uniform"))];
  const prior = select(
    "priors",
    "Prior",
    priors.map((o) => [o, priorLabel(parsePriorSpec(o))]),
    draft.priors ?? applied,
  );
  const priorSelect = prior.querySelector<HTMLElement & { value: string }>("vscode-single-select")!;
  priorSelect.setAttribute("data-nav", "setting-priors");
  priorSelect.addEventListener("change", () => {
    const v = priorSelect.value;
    if (!v || v === applied) delete draft.priors;
    else draft.priors = v;
    mark();
    env.edited({ ...draft });
  });
  mark();
  // The notebook ranks queries by QK·p^0.1 but shows QK: say so, and offer the shown order.
  const sort = select(
    "querySort",
    "Queries sorted by",
    [
      ["rule", "QK·p^0.1 (notebook)"],
      ["score", "QK (shown score)"],
    ],
    view.querySort,
  );
  sort.querySelector("vscode-single-select")!.addEventListener("change", (ev) => {
    const v = (ev.target as HTMLSelectElement).value;
    env.setQuerySort(v === "score" ? "score" : "rule");
  });
  const cancel = el("vscode-button", { id: "cancel", secondary: "" }, "Cancel");
  cancel.addEventListener("click", () => env.cancel());
  const m = s.model;
  const current = el("p", { class: "current" }, "Viewing ", el("strong", { id: "current-head" }, "—"));
  return el(
    "header",
    { class: "top" },
    el(
      "div",
      { class: "title" },
      el("h1", {}, m.name),
      el(
        "span",
        { class: "meta" },
        `${m.nLayers} layer${m.nLayers > 1 ? "s" : ""} · ${m.nHeads} heads · V ${m.dVocab.toLocaleString("en-US")}`,
      ),
      current,
    ),
    el("div", { class: "controls" }, ...SIZE_FIELDS.map(num), prior, apply, ...(env.busy ? [cancel] : []), sort),
    note,
    ...(env.heads.length ? [headIndex(env.heads, env.jump)] : []),
    env.busy
      ? el("vscode-progress-bar", { value: String(Math.round(100 * (env.progress ?? 0))), max: "100", "aria-label": "Analysis progress" })
      : "",
  );
}
