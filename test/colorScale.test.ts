/**
 * Issue #21, item 7: every sequential colour ramp of the pages (head-metric and composition cells,
 * attention patterns on canvas) reads as different lightness for values 0.05 apart, in every theme.
 * Lightness is computed here, independently of the product: sRGB → CIE XYZ (D65) → CIE L*a*b*.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { paletteFrom, parse } from "../webview/shared/colors";
import { sequentialCell } from "../webview/shared/sequential";
import { paint } from "../webview/attention/canvasColors";

type Rgb = [number, number, number];

/** CIE L*a*b* of an sRGB colour (IEC 61966-2-1 transfer, D65 white). */
function lab([r, g, b]: Rgb): [number, number, number] {
  const lin = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const X = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const Y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const Z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}
const lightness = (c: Rgb) => lab(c)[0];

// Each theme's colours as VS Code 1.100 defines them.
const THEMES: Record<string, { colors: Record<string, string>; dark: boolean }> = {
  light: {
    colors: {
      foreground: "#3b3b3b",
      "editor-background": "#ffffff",
      "sideBar-background": "#f8f8f8",
      "charts-blue": "#1a85ff",
      "charts-red": "#e51400",
    },
    dark: false,
  },
  dark: {
    colors: {
      foreground: "#cccccc",
      "editor-background": "#1f1f1f",
      "sideBar-background": "#181818",
      "charts-blue": "#3794ff",
      "charts-red": "#f14c4c",
    },
    dark: true,
  },
  "high contrast dark": {
    colors: {
      foreground: "#ffffff",
      "editor-background": "#000000",
      "sideBar-background": "#000000",
      "charts-blue": "#3794ff",
      "charts-red": "#f14c4c",
    },
    dark: true,
  },
  "high contrast light": {
    colors: {
      foreground: "#292929",
      "editor-background": "#ffffff",
      "sideBar-background": "#ffffff",
      "charts-blue": "#0f4a85",
      "charts-red": "#b5200d",
    },
    dark: false,
  },
};
const hex = (s: string): Rgb => parse(s)!.slice(0, 3) as Rgb;

const palette = (theme: string) => paletteFrom((n) => THEMES[theme].colors[n] ?? "", THEMES[theme].dark);

/** The colours the pages give value v, per ramp (the overview's cells take score / the map's largest as v). */
const RAMPS: Record<string, (theme: string, v: number) => Rgb> = {
  "shaded cells and tokens (metrics, composition, token strip)": (theme, v) => hex(sequentialCell(palette(theme), v).bg),
  "attention pattern (canvas)": (theme, v) => {
    const px = new Uint8ClampedArray(4);
    paint(px, [v], 1, { dark: THEMES[theme].dark });
    return [px[0], px[1], px[2]];
  },
};

/**
 * ΔE*ab ≈ 2.3 is the just-noticeable difference for large patches side by side (Sharma & Trussell);
 * heatmap cells are small and compared across a table, and hue alone is lost to colour-blind
 * readers: ask lightness alone for 3 (≈ 1.3 JND) per 0.05 of value, 4 for the issue's 0.041 vs 0.108.
 */
const MIN_DL_PER_STEP = 3;
const MIN_DL_ISSUE_PAIR = 4;

for (const [ramp, color] of Object.entries(RAMPS))
  for (const theme of Object.keys(THEMES))
    test(`${ramp}, ${theme} theme: values 0.05 apart differ by ≥ ${MIN_DL_PER_STEP} in CIE L*`, () => {
      const pair = Math.abs(lightness(color(theme, 0.041)) - lightness(color(theme, 0.108)));
      assert.ok(pair >= MIN_DL_ISSUE_PAIR, `0.041 vs 0.108: ΔL* ${pair.toFixed(2)}`);
      for (let i = 0; i + 5 <= 100; i++) {
        const [a, b] = [i / 100, (i + 5) / 100];
        const dl = Math.abs(lightness(color(theme, a)) - lightness(color(theme, b)));
        assert.ok(dl >= MIN_DL_PER_STEP, `${a.toFixed(2)} vs ${b.toFixed(2)}: ΔL* ${dl.toFixed(2)}`);
      }
    });

/** WCAG 2 contrast ratio, computed here. */
function contrastRatio(a: Rgb, b: Rgb): number {
  const lum = (c: Rgb) =>
    c
      .map((v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      .reduce((s, v, i) => s + [0.2126, 0.7152, 0.0722][i] * v, 0);
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

for (const theme of Object.keys(THEMES))
  test(`${theme} theme: 0 sits next to the background, 1 far from it; a cell's text keeps 4.5:1 at every value`, () => {
    const bg = lightness(hex(THEMES[theme].colors["editor-background"]));
    const at = (v: number) => lightness(RAMPS["shaded cells and tokens (metrics, composition, token strip)"](theme, v));
    assert.ok(Math.abs(at(0) - bg) < Math.abs(at(1) - bg), `0 nearer the background than 1 (${at(0)}, ${at(1)}, bg ${bg})`);
    assert.ok(Math.abs(at(1) - at(0)) >= 80, `a lightness range of ≥ 80 (${(at(1) - at(0)).toFixed(1)})`);
    for (let i = 0; i <= 100; i++) {
      const cell = sequentialCell(palette(theme), i / 100);
      const ratio = contrastRatio(hex(cell.fg), hex(cell.bg));
      assert.ok(ratio >= 4.5, `value ${i / 100}: text ${cell.fg} on ${cell.bg} is ${ratio.toFixed(2)}:1`);
    }
  });
