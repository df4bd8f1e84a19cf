/**
 * The enlarged head: its exact [T, T] pattern on one canvas with token labels on both axes (every
 * label when cells are tall enough, else every k-th), and a tooltip with query token, key token and
 * weight under the pointer. Geometry is published as data attributes (origin, cell size) so tests
 * and assistive tools can address a cell. A click on a cell (query i, key j ≤ i), or Enter on the
 * cell the arrow keys moved to, asks for its Why; the focused cell is framed and announced.
 */
import type { RunToken } from "../../src/protocol/attention";
import { paint, paintSigned, Palette } from "./canvasColors";
import { cutToken, SHORT_TOKEN_CHARS } from "../../src/core/tokenDisplay";
import { strongestNonBosKey } from "../../src/core/whyParts";

const LABEL_FONT_PX = 11;
const MARGIN = 96; // room for labels left and top
const MAX_PLOT_PX = 440;

export function shortLabel(t: RunToken, i: number, bos: boolean): string {
  if (i === 0 && bos) return "⟨bos⟩";
  return cutToken(t.text.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/ /g, "·"), SHORT_TOKEN_CHARS);
}

export interface BigPatternCallbacks {
  /** A row was hovered or reached by keyboard (undefined: none). */
  hoverRow(query: number | undefined): void;
  /** A cell was clicked, or Enter / Space on the focused cell: explain it. */
  choose(query: number, key: number): void;
  /** The row the keyboard starts on (the position the panel shows), if any. */
  startRow(): number | undefined;
}

export class BigPattern {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly tip: HTMLElement;
  /** The keyboard's cell, and the cell the Why explains: frames over the canvas. */
  private readonly focusFrame: HTMLElement;
  private readonly whyFrame: HTMLElement;
  private data?: { T: number; weights: Float32Array; tokens: RunToken[]; bos: boolean; cell: number };
  private hoveredRow?: number;
  private focus?: { i: number; j: number };
  private explained?: { i: number; j: number };

  constructor(private readonly cb: BigPatternCallbacks) {
    this.canvas = document.createElement("canvas");
    // A keyboard widget of its own (arrow keys, Enter): screen readers pass the keys through.
    this.canvas.setAttribute("role", "application");
    this.canvas.setAttribute("aria-roledescription", "attention pattern");
    this.canvas.tabIndex = 0;
    this.tip = document.createElement("div");
    this.tip.className = "cell-tip";
    this.tip.setAttribute("role", "status");
    this.focusFrame = Object.assign(document.createElement("div"), { className: "cell-frame focus", hidden: true });
    this.whyFrame = Object.assign(document.createElement("div"), { className: "cell-frame why", hidden: true });
    const wrap = document.createElement("div");
    wrap.className = "big-wrap";
    wrap.append(this.canvas, this.whyFrame, this.focusFrame);
    this.root = document.createElement("div");
    this.root.className = "big";
    this.root.append(wrap, this.tip);
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => {
      if (document.activeElement === this.canvas && this.focus) return this.announce(this.focus.i, this.focus.j);
      this.tip.textContent = "";
      this.hoverRow(undefined);
    });
    this.canvas.addEventListener("click", (e) => {
      const c = this.cellAt(e);
      if (!c || c.j > c.i) return;
      this.moveFocus(c.i, c.j);
      this.cb.choose(c.i, c.j);
    });
    this.canvas.addEventListener("focus", () => {
      const d = this.data;
      if (!d) return;
      if (!this.focus) {
        const i = Math.min(d.T - 1, this.cb.startRow() ?? d.T - 1);
        this.focus = { i, j: strongestNonBosKey(d.weights, d.T, i, d.bos) };
      }
      this.moveFocus(this.focus.i, this.focus.j);
    });
    this.canvas.addEventListener("blur", () => (this.focusFrame.hidden = true));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
  }

  /** Arrow keys move within the causal triangle (j ≤ i); Home / End: the row's first key and the diagonal; Enter / Space: Why. */
  private key(e: KeyboardEvent): void {
    const d = this.data,
      f = this.focus;
    if (!d || !f || e.altKey || e.metaKey || e.ctrlKey) return;
    let { i, j } = f;
    const page = Math.max(1, Math.floor(200 / d.cell));
    switch (e.key) {
      case "ArrowUp":
        i = Math.max(0, i - 1);
        break;
      case "ArrowDown":
        i = Math.min(d.T - 1, i + 1);
        break;
      case "ArrowLeft":
        j = Math.max(0, j - 1);
        break;
      case "ArrowRight":
        j = Math.min(i, j + 1);
        break;
      case "PageUp":
        i = Math.max(0, i - page);
        break;
      case "PageDown":
        i = Math.min(d.T - 1, i + page);
        break;
      case "Home":
        j = 0;
        break;
      case "End":
        j = i;
        break;
      case "Enter":
      case " ":
        e.preventDefault();
        this.cb.choose(i, j);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.moveFocus(i, Math.min(i, j));
  }

  private moveFocus(i: number, j: number): void {
    this.focus = { i, j };
    if (document.activeElement === this.canvas) this.place(this.focusFrame, i, j, true);
    this.announce(i, j);
    this.hoverRow(i);
  }

  /** Frames the cell the Why explains (undefined: none). */
  markExplained(cell: { i: number; j: number } | undefined): void {
    this.explained = cell;
    if (cell) this.place(this.whyFrame, cell.i, cell.j);
    else this.whyFrame.hidden = true;
  }

  private place(frame: HTMLElement, i: number, j: number, scroll = false): void {
    const d = this.data;
    if (!d || i >= d.T) {
      frame.hidden = true;
      return;
    }
    const size = Math.max(d.cell, 6); // a frame stays visible on a 1-pixel cell
    const at = (k: number) => `${MARGIN + (k + 0.5) * d.cell - size / 2 - 2}px`;
    Object.assign(frame.style, { left: at(j), top: at(i), width: `${size + 4}px`, height: `${size + 4}px` });
    frame.hidden = false;
    if (scroll) frame.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  /** Draws one head's exact pattern. */
  /** `signed`: the weights are a change in [−1, 1] (ablated − baseline), drawn on the signed scale. */
  draw(name: string, T: number, weights: Float32Array, tokens: RunToken[], bos: boolean, palette: Palette, signed = false): void {
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
    this.canvas.setAttribute(
      "aria-label",
      `${name}: attention pattern over ${T} tokens (rows: queries, columns: keys). Arrow keys move between cells; Enter explains a cell (Why).`,
    );
    if (this.focus && this.focus.i >= T) this.focus = undefined; // another text: start again
    if (this.explained) this.place(this.whyFrame, this.explained.i, this.explained.j);
    if (this.focus && document.activeElement === this.canvas) this.place(this.focusFrame, this.focus.i, this.focus.j);
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size, size);
    // The pattern at one pixel per weight, scaled up without smoothing.
    const src = document.createElement("canvas");
    src.width = T;
    src.height = T;
    const sctx = src.getContext("2d")!;
    const img = sctx.createImageData(T, T);
    if (signed) paintSigned(img.data, weights, palette.signed);
    else paint(img.data, weights, 1, palette);
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

  private cellAt(e: MouseEvent): { i: number; j: number } | undefined {
    const d = this.data;
    if (!d) return undefined;
    const r = this.canvas.getBoundingClientRect();
    const i = Math.floor((e.clientY - r.top - MARGIN) / d.cell),
      j = Math.floor((e.clientX - r.left - MARGIN) / d.cell);
    return i < 0 || j < 0 || i >= d.T || j >= d.T ? undefined : { i, j };
  }

  private hover(e: MouseEvent): void {
    const c = this.cellAt(e);
    if (!c) {
      this.tip.textContent = "";
      this.hoverRow(undefined);
      return;
    }
    this.announce(c.i, c.j);
    this.hoverRow(c.i);
  }

  /** The cell's query, key and weight in words (the tip is a status region: the keyboard's moves are read out). */
  private announce(i: number, j: number): void {
    const d = this.data!;
    const label = (k: number) => `${k} ${cutToken(d.tokens[k].token)}`; // whole in the strip's tooltips
    const w = d.weights[i * d.T + j];
    this.tip.textContent =
      j > i
        ? `query ${label(i)} cannot attend to the later key ${label(j)}`
        : `query ${label(i)} → key ${label(j)}: ${w.toFixed(4)} (click or Enter: why)`;
    this.tip.dataset.query = String(i);
    this.tip.dataset.key = String(j);
    this.tip.dataset.weight = String(w);
  }

  /** Tells the owner about a new hovered row only (a mousemove within a row changes nothing there). */
  private hoverRow(i: number | undefined): void {
    if (i === this.hoveredRow) return;
    this.hoveredRow = i;
    this.cb.hoverRow(i);
  }
}
