/**
 * The one colour of each head, for every page that draws heads as lines or marks: the head's index
 * within its layer picks a hue of Tableau 10 (d3-scale-chromatic; designed as ten hues told apart at
 * a glance), its layer a dash pattern (solid, dashed, dotted, dash-dot), so L1H0 is the same blue
 * dashed line in every chart. Each hue is darkened (light themes) or lightened (dark and
 * high-contrast dark) until it keeps 3:1 against the page background, WCAG's minimum for marks.
 */
import { contrast, css, mix, parse, RGB } from "./colors";

// d3-scale-chromatic is an ES module; these pages compile as CommonJS (esbuild bundles either): require, typed.
type Chromatic = typeof import("d3-scale-chromatic", { with: { "resolution-mode": "import" } });
const { schemeTableau10 } = require("d3-scale-chromatic") as Chromatic;

const MIN_MARK_CONTRAST = 3.05; // WCAG 1.4.11's 3:1, with a margin for rounding
const DASHES: number[][] = [[], [7, 4], [2, 3], [9, 3, 2, 3]];

export interface HeadStyle {
  /** A CSS colour. */
  color: string;
  /** The canvas dash pattern ([] = solid). */
  dash: number[];
  /** "dashed" etc., for a legend that says it in words. */
  dashName: string;
}

const DASH_NAMES = ["solid", "dashed", "dotted", "dash-dot"];

/** Hue `i` of the categorical scale (cycling), readable as a mark on background `bg`. */
export function categoricalColor(i: number, bg: RGB, dark: boolean): string {
  const base = parse(schemeTableau10[((i % 10) + 10) % 10])!;
  const hue: RGB = [base[0], base[1], base[2]];
  const toward: RGB = dark ? [255, 255, 255] : [0, 0, 0];
  let t = 0;
  while (t < 1 && contrast(mix(toward, hue, t), bg) < MIN_MARK_CONTRAST) t += 0.02;
  return css(mix(toward, hue, Math.min(1, t)));
}

/** Head `head` of layer `layer`: its hue by head, its dash by layer. */
export function headStyle(layer: number, head: number, bg: RGB, dark: boolean): HeadStyle {
  const d = layer % DASHES.length;
  return { color: categoricalColor(head, bg, dark), dash: DASHES[d], dashName: DASH_NAMES[d] };
}

/** The page background as VS Code's theme sets it. */
export function pageBackground(dark: boolean): RGB {
  const c = parse(getComputedStyle(document.documentElement).getPropertyValue("--vscode-editor-background"));
  return c ? [c[0], c[1], c[2]] : dark ? [30, 30, 30] : [255, 255, 255];
}
