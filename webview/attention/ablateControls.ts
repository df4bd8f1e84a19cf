/**
 * The ablation controls: one toggle under each head of the grid (off → zero → mean → off) and, for the
 * enlarged head, a menu of path ablations ("only into L1H0's keys", for every later head). The page
 * keeps no ablation of its own: it asks the host for a new list and draws the list the host sends back.
 */
import { headName } from "../../src/core/heads";
import type { HeadAblation, HeadInput } from "../../src/protocol/whatIf";
import { el } from "../shared/dom";

const NEXT_KIND = { off: "zero", zero: "mean", mean: "off" } as const;
type Kind = keyof typeof NEXT_KIND;
const INPUTS: [HeadInput, string][] = [
  ["q", "queries"],
  ["k", "keys"],
  ["v", "values"],
];

export const find = (list: readonly HeadAblation[], l: number, h: number) => list.find((a) => a.layer === l && a.head === h);

/** `list` with head (l, h) ablated as `kind` (its path kept), or not at all ("off"). */
export function withKind(list: readonly HeadAblation[], l: number, h: number, kind: Kind): HeadAblation[] {
  const rest = list.filter((a) => a.layer !== l || a.head !== h);
  if (kind === "off") return rest;
  const into = find(list, l, h)?.into;
  return [...rest, into ? { layer: l, head: h, kind, into } : { layer: l, head: h, kind }];
}

/** The toggle under one head of the grid: its click (Enter, Space) moves to the next kind. */
export function ablateToggle(
  l: number,
  h: number,
  change: (list: HeadAblation[]) => void,
  list: () => readonly HeadAblation[],
): HTMLButtonElement {
  const b = el("button", { class: "ablate", type: "button", "data-layer": String(l), "data-head": String(h) });
  b.addEventListener("click", (e) => {
    e.stopPropagation(); // not a choice of the head
    change(withKind(list(), l, h, NEXT_KIND[(find(list(), l, h)?.kind ?? "off") as Kind]));
  });
  b.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && e.stopPropagation());
  showToggle(b, l, h, find([], l, h));
  return b;
}

/** Draws a toggle for head (l, h)'s ablation (none: off). */
export function showToggle(b: HTMLButtonElement, l: number, h: number, a: HeadAblation | undefined): void {
  const kind: Kind = a?.kind ?? "off";
  const path = a?.into ? ` → ${headName(a.into.layer, a.into.head)}.${a.into.input}` : "";
  b.textContent = kind === "off" ? "ablate: off" : `ablated: ${kind}${path}`;
  b.setAttribute("aria-pressed", String(kind !== "off"));
  // The visible words first (axe: label-content-name-mismatch), then whose toggle it is and what a press does.
  b.setAttribute("aria-label", `${b.textContent} (${headName(l, h)}; press for ${NEXT_KIND[kind]})`);
}

/**
 * The enlarged head's ablation menu: the kind, and where its change goes (the whole stream, or only one
 * later head's queries, keys or values). A native select: reached with Tab, chosen with the arrow keys.
 */
export class PathMenu {
  readonly root: HTMLElement;
  private readonly kind = el("select", { id: "ablate-kind" });
  private readonly into = el("select", { id: "ablate-into" });
  private readonly label = el("label", { for: "ablate-kind" }, "Ablate");
  private at?: { l: number; h: number; L: number; H: number };

  constructor(
    private readonly list: () => readonly HeadAblation[],
    private readonly change: (list: HeadAblation[]) => void,
  ) {
    for (const k of ["off", "zero", "mean"]) this.kind.append(el("option", { value: k }, k));
    this.root = el("div", { class: "ablate-menu" }, this.label, this.kind, el("label", { for: "ablate-into" }, "into"), this.into);
    this.kind.addEventListener("change", () => this.apply());
    this.into.addEventListener("change", () => this.apply(true));
  }

  /** The menu of head (l, h) in an L × H model. */
  show(l: number, h: number, L: number, H: number): void {
    if (this.at?.l !== l || this.at.h !== h || this.at.L !== L || this.at.H !== H) {
      this.at = { l, h, L, H };
      const options = [el("option", { value: "" }, "every later head (the whole stream)")];
      for (let l2 = l + 1; l2 < L; l2++)
        for (let h2 = 0; h2 < H; h2++)
          for (const [input, words] of INPUTS)
            options.push(el("option", { value: `${l2}.${h2}.${input}` }, `only ${headName(l2, h2)}'s ${words}`));
      this.into.replaceChildren(...options);
      this.label.textContent = `Ablate ${headName(l, h)}`;
    }
    this.into.disabled = l + 1 >= L; // the last layer's heads feed no later head
    const a = find(this.list(), l, h);
    this.kind.value = a?.kind ?? "off";
    this.into.value = a?.into ? `${a.into.layer}.${a.into.head}.${a.into.input}` : "";
  }

  focus(): void {
    this.kind.focus();
  }

  /** `fromInto`: the change came from the "into" menu (a path chosen while off ablates with zero: choosing one says the user wants one). */
  private apply(fromInto = false): void {
    if (!this.at) return;
    const { l, h } = this.at;
    const kind = this.kind.value as Kind;
    const [l2, h2, input] = this.into.value.split(".");
    const k = fromInto && kind === "off" && this.into.value ? "zero" : kind;
    const rest = this.list().filter((a) => a.layer !== l || a.head !== h);
    if (k === "off") return this.change(rest);
    const into = this.into.value ? { layer: Number(l2), head: Number(h2), input: input as HeadInput } : undefined;
    this.change([...rest, into ? { layer: l, head: h, kind: k, into } : { layer: l, head: h, kind: k }]);
  }
}
