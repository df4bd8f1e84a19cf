/** The sticky bar: model, the current head, settings, query order, the head index, progress. */
import type { PanelSettings, PanelState, PanelView } from "../src/protocol/webview";
import { el } from "./dom";
import { headIndex } from "./navigation";

export interface HeaderEnv {
  busy: boolean;
  progress?: number;
  heads: { layer: number; head: number }[];
  apply(settings: PanelSettings): void;
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

export function header(s: PanelState, view: PanelView, env: HeaderEnv): HTMLElement {
  const num = (id: string, label: string, value: number, min: number) => {
    const f = el("vscode-textfield", { id, type: "number", min: String(min), value: String(value), "aria-label": label });
    return el("div", { class: "control" }, el("vscode-label", { for: id }, label), f);
  };
  const priors = ["bundled", "uniform", ...(s.settings.priors !== "bundled" && s.settings.priors !== "uniform" ? [s.settings.priors] : [])];
  const prior = select("priors", "Prior", priors.map((o) => [o, o === "bundled" ? "bundled corpus" : o === "uniform" ? "uniform" : `words file: ${o.split(/[\\/]/).pop()}`]), s.settings.priors);
  const apply = el("vscode-button", { id: "apply" }, "Apply");
  apply.addEventListener("click", () => {
    const read = (id: string, min: number, dflt: number) => {
      const v = Number((document.getElementById(id) as HTMLInputElement).value);
      return Number.isFinite(v) && v >= min ? Math.round(v) : dflt;
    };
    env.apply({
      nKeys: read("nKeys", 1, s.settings.nKeys), nQueries: read("nQueries", 0, s.settings.nQueries), nOutputs: read("nOutputs", 0, s.settings.nOutputs),
      priors: (document.getElementById("priors") as HTMLSelectElement).value || s.settings.priors,
    });
  });
  // The notebook ranks queries by QK·p^0.1 but shows QK: say so, and offer the shown order.
  const sort = select("querySort", "Queries sorted by", [["rule", "QK·p^0.1 (notebook)"], ["score", "QK (shown score)"]], view.querySort);
  sort.querySelector("vscode-single-select")!.addEventListener("change", (ev) => {
    const v = (ev.target as HTMLSelectElement).value;
    env.setQuerySort(v === "score" ? "score" : "rule");
  });
  const cancel = el("vscode-button", { id: "cancel", secondary: "" }, "Cancel");
  cancel.addEventListener("click", () => env.cancel());
  const m = s.model;
  const current = el("p", { class: "current" }, "Viewing ", el("strong", { id: "current-head" }, "—"));
  return el("header", { class: "top" },
    el("div", { class: "title" }, el("h1", {}, m.name), el("span", { class: "meta" }, `${m.nLayers} layer${m.nLayers > 1 ? "s" : ""} · ${m.nHeads} heads · V ${m.dVocab.toLocaleString("en-US")}`), current),
    el("div", { class: "controls" }, num("nKeys", "Keys", s.settings.nKeys, 1), num("nQueries", "Queries", s.settings.nQueries, 0), num("nOutputs", "Outputs", s.settings.nOutputs, 0),
      prior, apply, ...(env.busy ? [cancel] : []), sort),
    ...(env.heads.length ? [headIndex(env.heads, env.jump)] : []),
    env.busy ? el("vscode-progress-bar", { value: String(Math.round(100 * (env.progress ?? 0))), max: "100", "aria-label": "Analysis progress" }) : "",
  );
}
