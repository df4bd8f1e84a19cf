/**
 * The heads' colours (webview/shared/headColors.ts): every head of a 4 × 12 model is a mark of at
 * least 3:1 against the editor background of the four kinds of theme (WCAG 1.4.11, contrast computed
 * here from WCAG's formula), the heads of one layer have ten different hues, and a head keeps its
 * colour and dash wherever it is drawn (same inputs, same style; the layer picks the dash).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "../webview/shared/colors";
import { headStyle } from "../webview/shared/headColors";

type Rgb = [number, number, number];
function wcagContrast(a: Rgb, b: Rgb): number {
  const lum = (c: Rgb) => {
    const [r, g, bl] = c.map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
const rgb = (css: string): Rgb => {
  const m = /^rgb\((\d+) (\d+) (\d+)\)$/.exec(css);
  assert.ok(m, css);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
};

// The editor backgrounds of VS Code 1.100's Light Modern, Dark Modern, Dark High Contrast, Light High Contrast.
const BACKGROUNDS: [string, string, boolean][] = [
  ["light", "#ffffff", false],
  ["dark", "#1f1f1f", true],
  ["hc-dark", "#000000", true],
  ["hc-light", "#ffffff", false],
];

test("every head is a mark of at least 3:1 on the background, in four themes; one layer's first ten heads differ in hue", () => {
  for (const [theme, hex, dark] of BACKGROUNDS) {
    const p = parse(hex)!;
    const bg: Rgb = [p[0], p[1], p[2]];
    const colours = new Set<string>();
    for (let layer = 0; layer < 4; layer++)
      for (let head = 0; head < 12; head++) {
        const s = headStyle(layer, head, bg, dark);
        const c = wcagContrast(rgb(s.color), bg);
        assert.ok(c >= 3, `${theme}: L${layer}H${head} ${s.color} is ${c.toFixed(2)}:1`);
        if (layer === 0 && head < 10) colours.add(s.color);
      }
    assert.equal(colours.size, 10, `${theme}: ten hues`);
  }
});

test("a head's style is its own everywhere: the head picks the hue, the layer the dash", () => {
  const bg: Rgb = [255, 255, 255];
  assert.deepEqual(headStyle(1, 0, bg, false), headStyle(1, 0, bg, false));
  assert.equal(headStyle(0, 3, bg, false).color, headStyle(1, 3, bg, false).color);
  assert.deepEqual(
    [0, 1, 2, 3].map((l) => headStyle(l, 0, bg, false).dashName),
    ["solid", "dashed", "dotted", "dash-dot"],
  );
  assert.deepEqual(headStyle(0, 0, bg, false).dash, []);
});
