/**
 * The grid of every head's pattern (layers × heads): one small canvas per head, drawn from the
 * run's byte thumbnails with putImageData (no DOM per cell, so 1 024 tokens cost the same as 10).
 * Built once per model shape; a new run only repaints the canvases.
 */
import type { HeadMetrics } from "../../src/core/headMetrics";
import { headName } from "../../src/core/heads";
import { paint, Palette } from "./canvasColors";
import { chipColor } from "../shared/colors";
import { el } from "../shared/dom";

export interface GridCallbacks {
  choose(layer: number, head: number): void;
}

export class HeadGrid {
  readonly root: HTMLElement;
  private shape = "";
  private cells: { fig: HTMLElement; canvas: HTMLCanvasElement; metrics: HTMLElement; dla: HTMLElement }[][] = [];
  private last?: { size: number; layers: Uint8Array[] };

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
        const metrics = el("span", { class: "metrics" });
        const dla = el("span", { class: "dla" });
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
          el("figcaption", {}, el("b", {}, headName(l, h)), metrics, dla),
        );
        const choose = () => this.cb.choose(l, h);
        fig.addEventListener("click", choose);
        fig.addEventListener("keydown", (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), choose()));
        this.root.append(fig);
        row.push({ fig, canvas, metrics, dla });
      }
      this.cells.push(row);
    }
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
        paint(img.data, layers[l].subarray(h * size * size, (h + 1) * size * size), 1 / 255, palette);
        ctx.putImageData(img, 0, 0);
      }
  }

  /** Repaints with the last thumbnails (a theme change). */
  redraw(palette: Palette): void {
    const [L, H] = this.shape.split("x").map(Number);
    if (this.last && L) this.draw(L, H, this.last.size, this.last.layers, palette);
  }

  select(layer?: number, head?: number): void {
    this.cells.forEach((row, l) => row.forEach((c, h) => c.fig.classList.toggle("chosen", l === layer && h === head)));
  }

  /** Head metrics beside each head ("induction 0.89 · prev 0.02"). */
  showMetrics(metrics: HeadMetrics[] | undefined, note?: string): void {
    for (const row of this.cells)
      for (const c of row) {
        c.metrics.textContent = "";
        c.metrics.title = note ?? "";
      }
    for (const m of metrics ?? []) {
      const c = this.cells[m.layer]?.[m.head];
      if (!c) continue;
      const parts: [string, number][] = [
        ["ind", m.induction],
        ["prev", m.prevToken],
        ["copy", m.copying],
        ["dup", m.duplicateToken],
        ["bos", m.bos],
      ];
      c.metrics.textContent = parts
        .slice(0, 3)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(" · ");
      c.metrics.title =
        `induction ${m.induction.toFixed(3)}, previous token ${m.prevToken.toFixed(3)}, copying ${m.copying.toFixed(3)}, ` +
        `duplicate token ${m.duplicateToken.toFixed(3)}, BOS ${m.bos.toFixed(3)} (weight-space and synthetic-sequence metrics)`;
    }
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
