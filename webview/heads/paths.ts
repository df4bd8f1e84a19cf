/**
 * A head's paths in the heads panel: the bar that switches between its direct path and its paths
 * through earlier heads (strongest composition first: the top 3 as buttons, every one in the "All
 * paths" list), what a path's cards mean in words, and the induction signature of k and q paths.
 */
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-label/index.js";
import { headName, parsePathKey, pathKey } from "../../src/core/heads";
import type { CompositionSet } from "../../src/core/headMetrics";
import { COMPOSITION_NAME, PathOption, pathsInto } from "../../src/core/headTraits";
import type { DiagonalStats, PathRef } from "../../src/core/report";
import { PATH_MEANING } from "../../src/core/reportText";
import { el } from "../shared/dom";

export const TYPE_LETTER = { q: "Q", k: "K", v: "V" } as const;
const SHOWN = 3;

export interface PathEnv {
  composition?: CompositionSet;
  pathsError?: string;
  /** The path a head shows (undefined: direct). */
  selected(layer: number, head: number): PathRef | undefined;
  select(layer: number, head: number, via: PathRef | undefined): void;
}

const optionText = (o: PathOption) => `via ${headName(o.layer, o.head)} · ${TYPE_LETTER[o.type]} ${o.score.toFixed(3)}`;
const optionName = (o: PathOption) => `${optionText(o)}: the path through ${headName(o.layer, o.head)}, ${COMPOSITION_NAME[o.type]}`;

/** The path bar of a head in layer ≥ 1 (undefined in layer 0: it reads only the embeddings). */
export function pathBar(layer: number, head: number, env: PathEnv): HTMLElement | undefined {
  if (layer === 0) return undefined;
  const name = headName(layer, head);
  const selected = env.selected(layer, head);
  const sel = pathKey(selected);
  const all = env.composition ? pathsInto(env.composition, layer, head) : [];
  const shown = all.slice(0, SHOWN);
  const current = selected && all.find((o) => pathKey(o) === sel);
  if (current && !shown.includes(current)) shown.push(current);
  const button = (text: string, label: string, title: string, via: PathRef | undefined) => {
    const on = pathKey(via) === sel;
    const b = el(
      "button",
      {
        class: `path-opt${on ? " on" : ""}`,
        "aria-pressed": String(on),
        "aria-label": label,
        title,
        tabindex: "-1",
        "data-nav": `path-${layer}:${head}:${pathKey(via) || "direct"}`,
      },
      text,
    );
    b.addEventListener("click", () => env.select(layer, head, via));
    return b;
  };
  const bar = el(
    "div",
    {
      class: "pathbar",
      role: "toolbar",
      "aria-label": `Paths of ${name}, strongest composition first`,
      "data-list": `paths-${layer}:${head}`,
    },
    button("Direct", `Direct path of ${name}`, `${name}'s own QK and OV circuits, from the token embeddings`, undefined),
    ...shown.map((o) => button(optionText(o), optionName(o), PATH_MEANING[o.type](headName(o.layer, o.head)), o)),
  );
  const parts: (HTMLElement | string)[] = [el("span", { class: "path-label" }, "Path"), bar];
  if (all.length) {
    const id = `all-paths-${layer}-${head}`;
    const select = el("vscode-single-select", {
      id,
      label: `All ${all.length} paths into ${name}, strongest first`,
      "aria-label": `All ${all.length} paths into ${name}, strongest first`,
      "data-nav": `allpaths-${layer}:${head}`,
    });
    select.append(
      el("vscode-option", { value: "" }, "Direct"),
      ...all.map((o) => {
        const opt = el("vscode-option", { value: pathKey(o) }, optionText(o));
        if (pathKey(o) === sel) opt.setAttribute("selected", "");
        return opt;
      }),
    );
    if (!sel) select.firstElementChild!.setAttribute("selected", "");
    select.addEventListener("change", (ev) => env.select(layer, head, parsePathKey((ev.target as HTMLSelectElement).value)));
    parts.push(el("span", { class: "all-paths" }, el("vscode-label", { for: id, class: "meta" }, `All ${all.length}:`), select));
  } else
    parts.push(
      el("span", { class: "meta" }, env.pathsError ? `paths unavailable: ${env.pathsError}` : "ordering the paths by composition score…"),
    );
  return el("div", { class: "paths" }, ...parts);
}

/** What a path's cards mean, and for k / q paths the induction signature with its one-line explanation. */
export function pathIntro(via: PathRef, diagonal: DiagonalStats | undefined, vocab: number): HTMLElement {
  const earlier = headName(via.layer, via.head);
  const parts: HTMLElement[] = [el("p", { class: "path-meaning" }, PATH_MEANING[via.type](earlier))];
  if (diagonal) {
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    parts.push(
      el(
        "p",
        { class: "diagonal" },
        el("strong", {}, "Induction signature: "),
        "a token's own token as its key has median rank ",
        el("strong", { class: "median-rank" }, diagonal.medianRank.toLocaleString("en-US")),
        ` of ${vocab.toLocaleString("en-US")} (0 = its best key); rank 0 for ${pct(diagonal.top1)}, top 10 for ${pct(diagonal.top10)} of all tokens.`,
      ),
      el(
        "p",
        { class: "meta diagonal-why" },
        "For every token at the query, where the same token ranks among all keys through this path: " +
          `near 0 means that through ${earlier} a token looks for an earlier copy of itself, as an induction head does through a ` +
          `previous-token head; an unrelated circuit gives about ${Math.round(vocab / 2).toLocaleString("en-US")}.`,
      ),
    );
  }
  return el("div", { class: "path-intro" }, ...parts);
}

/** How a card's key is described on a path ("a token L0H3 moved into the key position"). */
export function keyRole(via: PathRef | undefined): string | undefined {
  if (!via) return undefined;
  const e = headName(via.layer, via.head);
  return via.type === "k" ? `key: a token ${e} moved here` : via.type === "v" ? `source: a token ${e} moved here` : undefined;
}

/** The heading of a card's query list on a path. */
export function queriesHeading(via: PathRef | undefined): string {
  return via?.type === "q" ? `Queries ${headName(via.layer, via.head)} moved here that prefer key ` : "Queries that prefer key ";
}
