/**
 * The one sequential colour scale of every page, for values in [0, 1] (attention weights, head
 * pattern scores, composition scores over the map's largest): d3-scale-chromatic's magma, designed
 * perceptually uniform, from t = 0.1 (CIE L* ≈ 7) to 1 (L* ≈ 98) — a lightness range a theme's own
 * two colours (the background and its blue) cannot give in dark themes. Oriented by the theme so
 * that 0 sits next to the background and more is more contrast against it: dark (and high-contrast
 * dark) themes run dark → light, light themes light → dark. Text on a shaded cell is the theme's
 * foreground where that keeps 4.5:1, else black or white, whichever contrasts more (one of them
 * always reaches ≈ 4.58:1).
 */
import { contrast, css, parse, RGB } from "./colors";

// d3-scale-chromatic is an ES module; these pages compile as CommonJS (esbuild bundles either): require, typed.
type Chromatic = typeof import("d3-scale-chromatic", { with: { "resolution-mode": "import" } });
const { interpolateMagma } = require("d3-scale-chromatic") as Chromatic;

/** Where on magma the scale starts: below it magma's darkest tenth changes lightness too slowly to read. */
const START = 0.1;
const MIN_TEXT_CONTRAST = 4.6;
const BLACK: RGB = [0, 0, 0],
  WHITE: RGB = [255, 255, 255];

/** Value t ∈ [0, 1] (clamped; NaN as 0) as a colour for a dark or a light theme. */
export function sequentialRgb(dark: boolean, t: number): RGB {
  const x = Number.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0;
  const c = parse(interpolateMagma(dark ? START + (1 - START) * x : 1 - (1 - START) * x))!; // "#rrggbb"
  return [c[0], c[1], c[2]];
}

/** The text colour for a cell of colour `bg`: the theme's foreground when readable on it, else black or white. */
export function readableOn(bg: RGB, fg: RGB): RGB {
  if (contrast(fg, bg) >= MIN_TEXT_CONTRAST) return fg;
  return contrast(BLACK, bg) >= contrast(WHITE, bg) ? BLACK : WHITE;
}

/** A shaded cell of value t: its background and readable text, as CSS colours. */
export function sequentialCell(p: { dark: boolean; fg: RGB }, t: number): { bg: string; fg: string } {
  const bg = sequentialRgb(p.dark, t);
  return { bg: css(bg), fg: css(readableOn(bg, p.fg)) };
}

/** 256 colours of the scale, for painting canvases by lookup. */
export function sequentialLut(dark: boolean): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(sequentialRgb(dark, i / 255), i * 3);
  return lut;
}

/** The scale as a CSS gradient from 0 (left) to 1, for a legend's swatch. */
export function sequentialGradient(dark: boolean): string {
  const stops = Array.from({ length: 11 }, (_, i) => css(sequentialRgb(dark, i / 10)));
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
