/**
 * The pure parts of issue #14 (the panel and exports as a researcher reads them): one head name,
 * the Markdown export's separate query and output lists, chip colours whose text stays readable in
 * the light, dark and high-contrast themes, and chip tooltips that say something true.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { headList, headName } from "../src/core/heads";
import { HeadReport } from "../src/core/report";
import { headReportMarkdown } from "../src/core/reportExport";
import { chipColor, contrast, paletteFrom, parse, RGB } from "../webview/shared/colors";
import { chipTooltipRows } from "../webview/heads/chipTooltip";
import { isGlyphToken, visibleToken } from "../webview/shared/tokenText";

test("a head has one name: L1H0", () => {
  assert.equal(headName(1, 0), "L1H0");
  assert.equal(
    headList([
      { layer: 0, head: 0 },
      { layer: 0, head: 3 },
    ]),
    "L0H0, L0H3",
  );
  assert.equal(headList(Array.from({ length: 12 }, (_, head) => ({ layer: 0, head }))), "12 heads");
});

const report: HeadReport = {
  model: "m",
  layer: 1,
  head: 0,
  bos: 0,
  ep: "cpu",
  keys: [
    {
      id: 5,
      token: "' to'",
      importance: 68.7,
      maxQK: 4.46,
      maxOV: 25.26,
      queries: [
        { id: 1, token: "' and'", score: 3.37 },
        { id: 2, token: "'a`b'", score: 2.21 },
      ],
      outputs: [{ id: 3, token: "' Middle'", score: 25.26 }],
    },
  ],
};

test("the Markdown export lists queries and outputs separately, never on one table row", () => {
  const md = headReportMarkdown(report);
  assert.match(md, /^## L1H0 \(`m`\)$/m);
  assert.doesNotMatch(md, /\| rank \| query/);
  assert.match(
    md,
    /Queries that prefer key \(ranked by QK·p\(q\)\^0\.1; score shown: QK\):\n\n1\. `' and'` 3\.37\n2\. `` 'a`b' `` 2\.21\n/,
  );
  assert.match(md, /Effect on logits \(ranked by OV; score shown: OV\):\n\n1\. `' Middle'` 25\.26\n/);
});

// Each theme's colours as VS Code 1.100 defines them (Light Modern, Dark Modern, Dark High Contrast).
const THEMES: Record<string, [Record<string, string>, boolean]> = {
  light: [
    {
      foreground: "#3b3b3b",
      "editor-background": "#ffffff",
      "sideBar-background": "#f8f8f8",
      "charts-blue": "#1a85ff",
      "charts-red": "#e51400",
    },
    false,
  ],
  dark: [
    {
      foreground: "#cccccc",
      "editor-background": "#1f1f1f",
      "sideBar-background": "#181818",
      "charts-blue": "#3794ff",
      "charts-red": "#f14c4c",
    },
    true,
  ],
  "high contrast": [
    {
      foreground: "#ffffff",
      "editor-background": "#000000",
      "sideBar-background": "#000000",
      "charts-blue": "#3794ff",
      "charts-red": "#f14c4c",
    },
    true,
  ],
};

test("chip text keeps 4.5:1 contrast on every chip colour, and a larger |score| is a stronger colour", () => {
  for (const [name, [colors, dark]] of Object.entries(THEMES)) {
    const p = paletteFrom((n) => colors[n] ?? "", dark);
    let last = -1;
    for (let s = 0; s <= 1.0001; s += 0.05) {
      for (const sign of [1, -1]) {
        const bg = parse(chipColor(p, sign * s, 1))!.slice(0, 3) as RGB;
        assert.ok(contrast(p.fg, bg) >= 4.5, `${name}: score ${sign * s} → ${contrast(p.fg, bg).toFixed(2)}`);
      }
      const distance = contrast(parse(chipColor(p, s, 1))!.slice(0, 3) as RGB, p.card);
      assert.ok(distance >= last, `${name}: stronger with the score`);
      last = distance;
    }
    assert.ok(p.maxPos > 0.2 && p.maxNeg > 0.2, `${name}: the scale has room (${p.maxPos.toFixed(2)}, ${p.maxNeg.toFixed(2)})`);
  }
});

test("theme colours parse in the forms VS Code writes them", () => {
  assert.deepEqual(parse("#abc"), [170, 187, 204, 1]);
  assert.deepEqual(parse("#11223380"), [17, 34, 51, 128 / 255]);
  assert.deepEqual(parse("rgba(1, 2, 3, 0.5)"), [1, 2, 3, 0.5]);
  assert.equal(parse("var(--x)"), undefined);
});

test("glyph-only tokens are marked for spacing; visible spaces are not glyphs", () => {
  assert.ok(isGlyphToken(visibleToken("'__'")));
  assert.ok(isGlyphToken(visibleToken("'''")));
  assert.ok(!isGlyphToken(visibleToken("' the'")));
  assert.ok(!isGlyphToken(visibleToken("' '")));
});

test("chip tooltips: the query's ranking score; an output's ≈ 0 row mean is said, not shown as a second equal number", () => {
  const details = { keys: [], tokens: { 1: { p: 1e-3, bytes: 4 }, 3: { p: 2e-4, bytes: 7 } }, prior: "uniform" };
  const model = { id: "m", name: "m", nLayers: 2, nHeads: 4, dVocab: 10, dModel: 8 };
  const q = Object.fromEntries(
    chipTooltipRows(
      { id: 1, token: "' and'", score: 3.37 },
      { kind: "query", rank: 1, of: 2, baseline: -1.5, key: "' to'", details, model },
    ),
  );
  assert.equal(q["QK[q,k] raw"], "1.8700 (before the BOS column is subtracted)");
  assert.equal(q["ranking score"], `${(3.37 * Math.pow(1e-3, 0.1)).toFixed(4)} = QK · p(q)^0.1`);
  assert.match(q.rank, /^1st of 2 queries of key ' to', by QK · p\(q\)\^0\.1$/);
  const o = Object.fromEntries(
    chipTooltipRows(
      { id: 3, token: "' Middle'", score: 25.26 },
      { kind: "output", rank: 1, of: 1, baseline: 3e-9, key: "' to'", details, model },
    ),
  );
  assert.equal(o["OV raw"], undefined);
  assert.match(o["row mean"], /≈ 0/);
  const shifted = Object.fromEntries(
    chipTooltipRows(
      { id: 3, token: "' Middle'", score: 25.26 },
      { kind: "output", rank: 1, of: 1, baseline: 0.5, key: "' to'", details, model },
    ),
  );
  assert.equal(shifted["OV before row-mean removal"], "25.7600 (row mean 0.5000)");
});
