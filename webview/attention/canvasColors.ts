/** Theme colours for canvas drawing (canvas cannot use CSS variables, so they are read and parsed). */
import { Palette as ChipPalette, isDarkTheme, mix, parse, readPalette as readChipPalette } from "../shared/colors";
import { sequentialLut } from "../shared/sequential";

export type Rgb = [number, number, number];

/** A CSS colour as RGB (alpha ignored: theme colours here are opaque), or the fallback. */
function rgbOf(css: string, fallback: Rgb): Rgb {
  const c = parse(css);
  return c ? [c[0], c[1], c[2]] : fallback;
}

export interface Palette {
  background: Rgb;
  foreground: Rgb;
  /** A dark or high-contrast dark theme: weights are painted on the shared sequential scale, 0 next to the background. */
  dark: boolean;
  /** Text on canvas (axis labels). */
  text: string;
  muted: string;
  grid: string;
  /** The editor's font family (canvas fonts cannot use CSS variables). */
  mono: string;
  highContrast: boolean;
  /** Signed values (logit attributions), for chipColor: mixed into the editor background as the
   * heads panel mixes its chips, so that text stays ≥ 4.5:1. */
  signed: ChipPalette;
}

export function readPalette(): Palette {
  const st = getComputedStyle(document.body);
  const v = (name: string) => st.getPropertyValue(name);
  const highContrast =
    document.body.classList.contains("vscode-high-contrast") || document.body.classList.contains("vscode-high-contrast-light");
  const dark = isDarkTheme();
  const background = rgbOf(v("--vscode-editor-background"), dark ? [30, 30, 30] : [255, 255, 255]);
  const foreground = rgbOf(v("--vscode-foreground"), dark ? [204, 204, 204] : [59, 59, 59]);
  return {
    background,
    foreground,
    dark,
    highContrast,
    text: v("--vscode-foreground").trim() || (dark ? "#ccc" : "#333"),
    muted: v("--vscode-descriptionForeground").trim() || (dark ? "#999" : "#666"),
    grid: v("--vscode-panel-border").trim() || "rgba(128,128,128,0.35)",
    mono: v("--vscode-editor-font-family").trim() || "monospace",
    signed: readChipPalette(true),
  };
}

const luts = new Map<boolean, Uint8ClampedArray>();

/** Fills RGBA pixels from weights (floats in [0, 1], or bytes with scale 1/255), on the shared sequential scale. */
export function paint(pixels: Uint8ClampedArray, weights: ArrayLike<number>, scale: number, p: Pick<Palette, "dark">): void {
  let lut = luts.get(p.dark);
  if (!lut) luts.set(p.dark, (lut = sequentialLut(p.dark)));
  for (let i = 0; i < weights.length; i++) {
    const b = Math.max(0, Math.min(255, Math.round(weights[i] * scale * 255))) * 3;
    pixels[i * 4] = lut[b];
    pixels[i * 4 + 1] = lut[b + 1];
    pixels[i * 4 + 2] = lut[b + 2];
    pixels[i * 4 + 3] = 255;
  }
}

/** Fills RGBA pixels from signed values in [−1, 1] (a pattern's change: ablated − baseline) on the pages' one signed scale. */
export function paintSigned(pixels: Uint8ClampedArray, values: ArrayLike<number>, p: ChipPalette): void {
  for (let i = 0; i < values.length; i++) {
    const v = Math.max(-1, Math.min(1, values[i]));
    const c = mix(v >= 0 ? p.pos : p.neg, p.card, (v >= 0 ? p.maxPos : p.maxNeg) * Math.abs(v));
    pixels[i * 4] = c[0];
    pixels[i * 4 + 1] = c[1];
    pixels[i * 4 + 2] = c[2];
    pixels[i * 4 + 3] = 255;
  }
}
