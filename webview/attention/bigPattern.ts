/**
 * The enlarged head: its exact [T, T] pattern on one canvas with token labels on both axes (every
 * label when cells are tall enough, else every k-th), and a tooltip with query token, key token and
 * weight under the pointer. Geometry is published as data attributes (origin, cell size) so tests
 * and assistive tools can address a cell.
 */
import type { RunToken } from "../../src/protocol/attention";
import { paint, Palette } from "./canvasColors";
import { cutToken, SHORT_TOKEN_CHARS } from "../../src/core/tokenDisplay";

const LABEL_FONT_PX = 11;
const MARGIN = 96; // room for labels left and top
const MAX_PLOT_PX = 440;

export function shortLabel(t: RunToken, i: number, bos: boolean): string {
  if (i === 0 && bos) return "⟨bos⟩";
  return cutToken(t.text.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/ /g, "·"), SHORT_TOKEN_CHARS);
}

export class BigPattern {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  private data?: { T: number; weights: Float32Array; tokens: RunToken[]; bos: boolean; cell: number };
  private hoveredRow?: number;

  constructor(private readonly onHoverRow: (query: number | undefined) => void) {
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("role", "img");
    this.tip = document.createElement("div");
    this.tip.className = "cell-tip";
    this.tip.setAttribute("role", "status");
    const wrap = document.createElement("div");
    wrap.className = "big-wrap";
    wrap.append(this.canvas);
    this.root = document.createElement("div");
    this.root.className = "big";
    this.root.append(wrap, this.tip);
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => {
      this.tip.textContent = "";
      this.hoverRow(undefined);
    });
  }

  /** Draws one head's exact pattern. */
  draw(name: string, T: number, weights: Float32Array, tokens: RunToken[], bos: boolean, palette: Palette): void {
    const cell = Math.max(1, Math.min(24, Math.floor(MAX_PLOT_PX / T)));
    this.data = { T, weights, tokens, bos, cell };
    this.hoveredRow = undefined; // a new pattern: the next hover reports its row again
    const plot = T * cell,
      size = MARGIN + plot + 4;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(size * dpr);
    this.canvas.height = Math.round(size * dpr);
    this.canvas.style.width = `${size}px`;
    this.canvas.style.height = `${size}px`;
    Object.assign(this.canvas.dataset, { originX: String(MARGIN), originY: String(MARGIN), cell: String(cell), t: String(T), head: name });
    this.canvas.setAttribute("aria-label", `${name}: attention pattern over ${T} tokens (rows: queries, columns: keys)`);
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    // The pattern at one pixel per weight, scaled up without smoothing.
    const src = document.createElement("canvas");
    src.width = T;
    src.height = T;
    const sctx = src.getContext("2d")!;
    const img = sctx.createImageData(T, T);
    paint(img.data, weights, 1, palette);
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(src, MARGIN, MARGIN, plot, plot);
    ctx.strokeStyle = palette.grid;
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN - 0.5, MARGIN - 0.5, plot + 1, plot + 1);
    // Labels: queries down the left, keys across the top (rotated), as many as fit.
    const every = Math.max(1, Math.ceil((LABEL_FONT_PX + 2) / cell));
    ctx.font = `${LABEL_FONT_PX}px ${palette.mono}`;
    ctx.fillStyle = palette.text;
    ctx.textBaseline = "middle";
    for (let i = 0; i < T; i += every) {
      const label = shortLabel(tokens[i], i, bos);
      const y = MARGIN + (i + 0.5) * cell;
      ctx.textAlign = "right";
      ctx.fillText(label, MARGIN - 4, y, MARGIN - 8);
      ctx.save();
      ctx.translate(MARGIN + (i + 0.5) * cell, MARGIN - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(label, 0, 0, MARGIN - 8);
      ctx.restore();
    }
    ctx.fillStyle = palette.muted;
    ctx.textAlign = "left";
    ctx.fillText("key →", 4, 10);
    ctx.fillText("query ↓", 4, 24);
  }

  private hover(e: MouseEvent): void {
    const d = this.data;
    if (!d) return;
    const r = this.canvas.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top - MARGIN) / d.cell),
      j = Math.floor((e.clientX - r.left - MARGIN) / d.cell);
    if (i < 0 || j < 0 || i >= d.T || j >= d.T) {
      this.tip.textContent = "";
      this.hoverRow(undefined);
      return;
    }
    const label = (k: number) => `${k} ${cutToken(d.tokens[k].token)}`; // whole in the strip's tooltips
    const w = d.weights[i * d.T + j];
    this.tip.textContent =
      j > i ? `query ${label(i)} cannot attend to the later key ${label(j)}` : `query ${label(i)} → key ${label(j)}: ${w.toFixed(4)}`;
    this.tip.dataset.query = String(i);
    this.tip.dataset.key = String(j);
    this.tip.dataset.weight = String(w);
    this.hoverRow(i);
  }

  /** Tells the owner about a new hovered row only (a mousemove within a row changes nothing there). */
  private hoverRow(i: number | undefined): void {
    if (i === this.hoveredRow) return;
    this.hoveredRow = i;
    this.onHoverRow(i);
  }
}
