/**
 * Chip colours from the theme's own colours (charts blue / red over the card background), mixed in
 * JavaScript so that every chip's text keeps a contrast of at least 4.5:1 against its background
 * in light, dark and high-contrast themes: the strongest mix is capped where the theme's foreground
 * would fall below it.
 */
import { onThemeChange } from "./connect";
export type RGB = [number, number, number];

export interface Palette {
  /** A dark or high-contrast dark theme (the sequential scale runs dark → light there). */
  dark: boolean;
  fg: RGB;
  card: RGB;
  pos: RGB;
  neg: RGB;
  /** Strongest mix of pos / neg into the card background that keeps the text readable. */
  maxPos: number;
  maxNeg: number;
}

const MIN_CONTRAST = 4.6; // WCAG AA's 4.5 with a margin for rounding

export function parse(s: string): [number, number, number, number] | undefined {
  s = s.trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (m) {
    let h = m[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join("");
    if (h.length !== 6 && h.length !== 8) return undefined;
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16);
    return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1];
  }
  m = /^rgba?\(([^)]+)\)$/i.exec(s);
  if (m) {
    const p = m[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map((x) => (x.endsWith("%") ? parseFloat(x) / 100 : parseFloat(x)));
    if (p.length >= 3 && p.slice(0, 3).every(Number.isFinite)) return [p[0], p[1], p[2], p.length > 3 && Number.isFinite(p[3]) ? p[3] : 1];
  }
  return undefined;
}

const over = (c: [number, number, number, number], under: RGB): RGB => [0, 1, 2].map((i) => c[i] * c[3] + under[i] * (1 - c[3])) as RGB;
export const mix = (a: RGB, b: RGB, t: number): RGB => [0, 1, 2].map((i) => a[i] * t + b[i] * (1 - t)) as RGB;

function luminance(c: RGB): number {
  const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}

export function contrast(a: RGB, b: RGB): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** A dark or high-contrast dark theme (VS Code gives high-contrast light themes both high-contrast classes). */
export function isDarkTheme(): boolean {
  const c = document.body.classList;
  return c.contains("vscode-dark") || (c.contains("vscode-high-contrast") && !c.contains("vscode-high-contrast-light"));
}

/**
 * The theme's colours as VS Code sets them on the webview's root element. Chips sit on cards of the
 * side-bar colour; `onEditor`: on the editor background itself (the attention panel).
 */
export function readPalette(onEditor = false): Palette {
  const cs = getComputedStyle(document.documentElement);
  const dark = isDarkTheme();
  return paletteFrom((name) => cs.getPropertyValue(`--vscode-${name}`), dark, onEditor);
}

/** The palette from theme colour values ("editor-background" → "#1f1f1f"). */
export function paletteFrom(color: (name: string) => string, dark: boolean, onEditor = false): Palette {
  const v = (name: string) => parse(color(name));
  const editor = over(v("editor-background") ?? (dark ? [30, 30, 30, 1] : [255, 255, 255, 1]), dark ? [0, 0, 0] : [255, 255, 255]);
  const sideBar = v("sideBar-background");
  const card = sideBar && !onEditor ? over(sideBar, editor) : editor;
  const fg = over(v("foreground") ?? (dark ? [204, 204, 204, 1] : [59, 59, 59, 1]), card);
  const pos = over(v("charts-blue") ?? [55, 148, 255, 1], card);
  const neg = over(v("charts-red") ?? [241, 76, 76, 1], card);
  const cap = (base: RGB) => {
    let t = 0.75;
    while (t > 0 && contrast(fg, mix(base, card, t)) < MIN_CONTRAST) t -= 0.01;
    return Math.max(0, t);
  };
  return { dark, fg, card, pos, neg, maxPos: cap(pos), maxNeg: cap(neg) };
}

export const css = (c: RGB) => `rgb(${c.map((x) => Math.round(x)).join(" ")})`;

/**
 * The one signed colour of every page: chips, table and heatmap cells, logit attributions. The sign
 * picks the hue, |score| / scale the strength (a scale of 0 — every value 0 — gives the faintest).
 */
export function chipColor(p: Palette, score: number, scale: number): string {
  const max = score >= 0 ? p.maxPos : p.maxNeg;
  const t = scale > 0 ? Math.min(1, Math.abs(score) / scale) : 0;
  const strength = Math.min(0.1, max * 0.3) + (max - Math.min(0.1, max * 0.3)) * t;
  return css(mix(score >= 0 ? p.pos : p.neg, p.card, strength));
}

/** The legend's swatch: strongest negative → card → strongest positive. */
export function scaleGradient(p: Palette): string {
  return `linear-gradient(to right, ${css(mix(p.neg, p.card, p.maxNeg))}, ${css(p.card)}, ${css(mix(p.pos, p.card, p.maxPos))})`;
}

/** Calls `f` with the new palette whenever a theme change (new CSS variables, body class) alters it. */
export function onPaletteChange(f: (palette: Palette) => void): void {
  let last = JSON.stringify(readPalette());
  onThemeChange(() => {
    const next = readPalette(),
      key = JSON.stringify(next);
    if (key === last) return;
    last = key;
    f(next);
  });
}
