/**
 * The grid of every head's pattern (layers × heads): one small canvas per head, drawn from the
 * run's byte thumbnails with putImageData (no DOM per cell, so 1 024 tokens cost the same as 10).
 * Built once per model shape; a new run only repaints the canvases.
 */
import type { HeadMetrics } from "../../src/core/headMetrics";
import { headName } from "../../src/core/heads";
import type { TextScores } from "../../src/core/textScores";
import { randomLine, randomTooltip, textLine, textTooltip } from "./scoreLabels";
import { paint, paintSigned, Palette } from "./canvasColors";
import type { HeadAblation } from "../../src/protocol/whatIf";
import { ablateToggle, find, showToggle } from "./ablateControls";
import { chipColor } from "../shared/colors";
import { el } from "../shared/dom";

export interface GridCallbacks {
  choose(layer: number, head: number): void;
  /** An ablate toggle asks for this list of ablations. */
  ablate(list: HeadAblation[]): void;
  /** Right click on a head: its ablation menu (path ablations). */
  menu(layer: number, head: number): void;
}

/** Under an ablation: what the thumbnails show (the ablated run, the baseline, or their difference). */
export type CompareView = "ablated" | "baseline" | "difference";

export class HeadGrid {
  readonly root: HTMLElement;
  private shape = "";
  private cells: {
    fig: HTMLElement;
    canvas: HTMLCanvasElement;
    text: HTMLElement;
    metrics: HTMLElement;
    dla: HTMLElement;
    toggle: HTMLButtonElement;
  }[][] = [];
  private last?: { size: number; layers: Uint8Array[] };
  /** The baseline's thumbnails while a comparison is shown (same size as the run's), and the view. */
  private baseline?: Uint8Array[];
  private view: CompareView = "ablated";
  private ablations: readonly HeadAblation[] = [];

  constructor(private readonly cb: GridCallbacks) {
    this.root = el("div", { class: "grid", role: "list", "aria-label": "Attention pattern of every head" });
  }

  /** Builds the cells for L × H heads (kept while the shape stays). */
  private build(L: number, H: number): void {
    const shape = `${L}x${H}`;
    if (shape === this.shape) return;
    this.shape = shape;
    this.root.style.gridTemplateColumns = `auto repeat(${H}, minmax(84px, 150px))`;
    this.root.replaceChildren();
    this.cells = [];
    for (let l = 0; l < L; l++) {
      this.root.append(el("div", { class: "layer-label" }, `L${l}`));
      const row = [];
      for (let h = 0; h < H; h++) {
        const canvas = el("canvas", { width: "1", height: "1", "aria-hidden": "true" });
        const text = el("span", { class: "text-scores" });
        const metrics = el("span", { class: "metrics" });
        const dla = el("span", { class: "dla" });
        const toggle = ablateToggle(
          l,
          h,
          (list) => this.cb.ablate(list),
          () => this.ablations,
        );
        const fig = el(
          "figure",
          {
            class: "thumb",
            role: "listitem",
            tabindex: "0",
            "data-layer": String(l),
            "data-head": String(h),
            "aria-label": `${headName(l, h)}: enlarge`,
          },
          canvas,
          el("figcaption", {}, el("b", {}, headName(l, h)), text, metrics, dla),
          toggle,
        );
        const choose = () => this.cb.choose(l, h);
        fig.addEventListener("click", choose);
        fig.addEventListener("contextmenu", (e) => (e.preventDefault(), this.cb.menu(l, h)));
        fig.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), choose()));
        this.root.append(fig);
        row.push({ fig, canvas, text, metrics, dla, toggle });
      }
      this.cells.push(row);
    }
    this.markAblated(this.ablations);
  }

  /** Paints every head's thumbnail ([H, S, S] bytes per layer). */
  draw(L: number, H: number, size: number, layers: Uint8Array[], palette: Palette): void {
    this.build(L, H);
    this.last = { size, layers };
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const { canvas } = this.cells[l][h];
        if (canvas.width !== size) {
          canvas.width = size;
          canvas.height = size;
        }
        const ctx = canvas.getContext("2d")!;
        const img = ctx.createImageData(size, size);
        const at = (x: Uint8Array[]) => x[l].subarray(h * size * size, (h + 1) * size * size);
        const base = this.baseline?.[l]?.length === layers[l].length ? this.baseline : undefined;
        if (base && this.view === "difference") {
          const a = at(layers),
            b = at(base);
          paintSigned(
            img.data,
            Float32Array.from(a, (x, i) => (x - b[i]) / 255),
            palette.signed,
          );
        } else paint(img.data, at(base && this.view === "baseline" ? base : layers), 1 / 255, palette);
        ctx.putImageData(img, 0, 0);
      }
  }

  /** Repaints with the last thumbnails (a theme change). */
  redraw(palette: Palette): void {
    const [L, H] = this.shape.split("x").map(Number);
    if (this.last && L) this.draw(L, H, this.last.size, this.last.layers, palette);
  }

  /** The comparison's baseline thumbnails (undefined: none) and which view the thumbnails show. */
  compare(baseline: Uint8Array[] | undefined, view: CompareView, palette: Palette): void {
    this.baseline = baseline;
    this.view = view;
    this.redraw(palette);
  }

  /** Marks the ablated heads and sets their toggles. */
  markAblated(list: readonly HeadAblation[]): void {
    this.ablations = list;
    this.cells.forEach((row, l) =>
      row.forEach((c, h) => {
        const a = find(list, l, h);
        c.fig.classList.toggle("ablated", a !== undefined);
        showToggle(c.toggle, l, h, a);
      }),
    );
  }

  select(layer?: number, head?: number): void {
    this.cells.forEach((row, l) => row.forEach((c, h) => c.fig.classList.toggle("chosen", l === layer && h === head)));
  }

  /** Head metrics beside each head ("random: ind 0.89 · prev 0.02 · copy 0.31"), from random sequences and the weights. */
  showMetrics(metrics: HeadMetrics[] | undefined, note?: string): void {
    for (const row of this.cells)
      for (const c of row) {
        // A failure is said where the line would be, not only in a tooltip: lines gone without a word look like a bug.
        c.metrics.textContent = note ? "random: unavailable" : "";
        c.metrics.title = note ?? "";
      }
    for (const m of metrics ?? []) {
      const c = this.cells[m.layer]?.[m.head];
      if (!c) continue;
      c.metrics.textContent = randomLine(m);
      c.metrics.title = randomTooltip(m);
    }
  }

  /** The same pattern scores measured on the run's text ("text: ind 0.78 · prev 0.05"), [L][H]. */
  showTextScores(scores: TextScores[][] | undefined): void {
    this.cells.forEach((row, l) =>
      row.forEach((c, h) => {
        const s = scores?.[l]?.[h];
        c.text.textContent = s ? textLine(s) : "";
        c.text.title = s ? textTooltip(s) : "";
      }),
    );
  }

  /** Each head's logit attribution to the actual next token at the selected position. */
  showDla(values: ((l: number, h: number) => number) | undefined, scale: number, palette: Palette): void {
    this.cells.forEach((row, l) =>
      row.forEach((c, h) => {
        const v = values?.(l, h);
        if (v === undefined || Number.isNaN(v)) {
          c.dla.textContent = "";
          c.dla.style.background = "";
          return;
        }
        c.dla.textContent = `DLA ${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(2)}`;
        c.dla.style.background = chipColor(palette.signed, v, scale);
        c.dla.title = "Direct logit attribution of this head to the actual next token at the selected position";
      }),
    );
  }
}
