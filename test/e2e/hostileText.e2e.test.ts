/**
 * Issue #21 (items 1, 4, 5, 7's tree tooltip) in real VS Code, with a model whose vocabulary holds
 * hostile token strings (markup, Markdown, a command link, codicon syntax, an entity, a backslash,
 * a 5 000-character token; test/support/hostileModel.ts):
 *  - every tooltip and hover shows those strings as literal text: no element, link or icon comes
 *    from them, and no Content Security Policy violation is logged;
 *  - in the attention panel, the heads panel and the token table, no page grows wider than its
 *    panel, long tokens are cut with "…" and whole in their tooltips, and every token-bearing
 *    element's text keeps WCAG contrast (4.5:1, 3:1 large) in light, dark, HC dark and HC light;
 *  - the tree tooltip's compositions are against the random baseline, with what Q/K/V means.
 * Screenshots of the three pages in the four themes go to test-output/hostile-*.png.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";
import { REPO, runCommand, Session, startVSCode } from "./harness";
import { axeSeriousViolations, frameWith, openFile, screenshotFailures, treeRowIn, vsix } from "./uxSupport";
import { HOSTILE_MODEL_NAME, HOSTILE_TEXT, LONG_TOKEN, writeHostileModel } from "../support/hostileModel";

const OUT = join(REPO, "test-output");
let s: Session;
let modelDir = "";
const SETTINGS = () => ({ "headLens.modelFolders": [modelDir], "headLens.keys": 16, "headLens.attention.debounceMs": 200 });
/** Console messages and securitypolicyviolation events of every frame, for the CSP check. */
const cspMessages: string[] = [];

/** The hostile tokens as Head Lens displays them (Python's repr), written out by hand. */
const SHOWN = [
  `'\\'"><svg onload=alert(3)>'`,
  "'<img src=x onerror=alert(1)>'",
  "'[x](command:workbench.action.closeWindow)'",
  "'**bold**'",
  "'`code`'",
  "'$(zap)'",
  "'&amp;'",
  "'\\\\'",
];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  modelDir = writeHostileModel(join(mkdtempSync(join(tmpdir(), "head-lens-e2e-hostile-")), "hostile-model"));
  s = await startVSCode(vsix(), { "hostile.txt": HOSTILE_TEXT }, SETTINGS());
  await s.page.setViewportSize({ width: 1600, height: 1000 });
  s.page.on("console", (m) => {
    if (/Content Security Policy|securitypolicyviolation/i.test(m.text())) cspMessages.push(m.text());
  });
  s.page.on("framenavigated", () => void watchCsp(s.page));
  await watchCsp(s.page);
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "hostile-");

/** Logs every CSP violation of every frame to the console (caught above), even those Chromium only reports as events. */
async function watchCsp(page: Page): Promise<void> {
  for (const f of page.frames()) {
    await f
      .evaluate(() => {
        const w = window as unknown as { headLensCsp?: boolean };
        if (w.headLensCsp) return;
        w.headLensCsp = true;
        document.addEventListener("securitypolicyviolation", (e) =>
          console.error(`securitypolicyviolation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber} ${e.sample}`),
        );
      })
      .catch(() => undefined);
  }
}

/** What a hover or tooltip holds that must not come from token text: elements, links, icons. */
async function activeContent(root: import("playwright-core").Locator): Promise<string[]> {
  return root.evaluate((e) => {
    const out: string[] = [];
    for (const x of e.querySelectorAll("svg, img, script, iframe, object, embed")) out.push(x.outerHTML.slice(0, 120));
    for (const a of e.querySelectorAll("a")) {
      const href = a.getAttribute("href") ?? a.getAttribute("data-href") ?? "";
      if (/closeWindow/.test(href) || a.textContent === "x") out.push(`link ${a.textContent} → ${href}`);
    }
    for (const b of e.querySelectorAll("strong, b, em")) if (/^bold$/.test(b.textContent ?? "")) out.push(`bold: ${b.outerHTML}`);
    for (const c of e.querySelectorAll(".codicon-zap")) out.push(`icon: ${c.outerHTML}`);
    return out;
  });
}

/**
 * WCAG contrast of the text of every element matched by `selector` (and of their descendants
 * holding text): text colour over the effective background, found by compositing the
 * backgrounds of the element and its ancestors up to the first opaque one. Returns the failures.
 */
async function contrastFailures(f: Frame, selector: string): Promise<{ checked: number; failures: string[] }> {
  return f.evaluate((sel) => {
    const parse = (c: string): number[] => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return [0, 0, 0, 0];
      const v = m[1]
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
    };
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
    const lum = (c: number[]) =>
      c
        .slice(0, 3)
        .map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((a, v, i) => a + [0.2126, 0.7152, 0.0722][i] * v, 0);
    const background = (e: Element): number[] => {
      const layers: number[][] = [];
      for (let x: Element | null = e; x; x = x.parentElement) {
        const c = parse(getComputedStyle(x).backgroundColor);
        if (c[3] > 0) layers.push(c);
        if (c[3] >= 1) break;
      }
      return layers.reduceRight((under, top) => over(top, under), [255, 255, 255, 1]);
    };
    const hasText = (e: Element) => [...e.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
    const els = new Set<Element>();
    for (const e of document.querySelectorAll(sel)) {
      if (hasText(e)) els.add(e);
      for (const d of e.querySelectorAll("*")) if (hasText(d)) els.add(d);
    }
    const failures: string[] = [];
    let checked = 0;
    for (const e of els) {
      const st = getComputedStyle(e);
      const r = e.getBoundingClientRect();
      if (st.visibility === "hidden" || r.width === 0 || r.height === 0 || e.closest(".sr-only")) continue;
      checked++;
      const bg = background(e);
      const fg = over(parse(st.color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      const px = parseFloat(st.fontSize);
      const large = px >= 24 || (px >= 18.66 && Number(st.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5))
        failures.push(
          `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} "${(e.textContent ?? "").slice(0, 30)}": ${ratio.toFixed(2)} ` +
            `(${st.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`,
        );
    }
    return { checked, failures };
  }, selector);
}

/** How much wider than its viewport a page's document is (0: not at all), and the elements reaching past it. */
async function overflow(f: Frame): Promise<{ px: number; past: string[] }> {
  return f.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const past = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > w + 2 && !e.closest(".tooltip"))
      .slice(0, 4)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} to ${Math.round(e.getBoundingClientRect().right)} px`);
    return { px: document.documentElement.scrollWidth - w, past };
  });
}

/** Hovers the first editor text holding `needle` and returns the hover holding `until`. */
async function hoverText(needle: string, until: string): Promise<import("playwright-core").Locator> {
  const span = s.page.locator(".editor-instance .view-lines span", { hasText: needle }).first();
  const box = (await span.boundingBox())!;
  await s.page.mouse.move(box.x + 5, 940); // away first (below the text's last line), so that the earlier hover closes
  await s.page.waitForTimeout(300);
  await s.page.mouse.move(box.x + 12, box.y + box.height / 2);
  const hover = s.page.locator(".monaco-hover", { hasText: until });
  await hover.waitFor({ timeout: 15_000 });
  await s.page.waitForTimeout(300);
  return hover;
}

/** Picks `label` if a quick pick asks for it within a few seconds. */
async function answerIfAsked(label: string): Promise<void> {
  const row = s.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: label }).first();
  if (
    await row.waitFor({ timeout: 3000 }).then(
      () => true,
      () => false,
    )
  )
    await row.click();
}

async function showTab(title: string | RegExp): Promise<void> {
  await s.page.locator(".tabs-container .tab", { hasText: title }).first().click();
  await s.page.waitForTimeout(600);
}

const ATTENTION = ".strip";
const HEADS = "header.top #current-head";
const TOKENS = "#token-heads";
const PAGES = [
  { name: "attention", tab: "Head Lens: Attention", ready: ATTENTION, tokens: ".strip .tok, .details h3, .details li, .cell-tip" },
  { name: "heads", tab: `Head Lens: ${HOSTILE_MODEL_NAME}`, ready: HEADS, tokens: ".key-token, .chip" },
  { name: "tokens", tab: "Which heads use", ready: TOKENS, tokens: "h1, #token-heads tbody td" },
] as const;

describe("issue #21: hostile token text in VS Code", () => {
  test("5: tree tooltips show hostile tokens literally (no markup, link, icon or CSP violation); 7: compositions against the baseline", async () => {
    await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
    await treeRowIn(s.page, HOSTILE_MODEL_NAME).click();
    await treeRowIn(s.page, "Layer 1").click();
    await runCommand(s.page, "Head Lens: Analyze Head", HOSTILE_MODEL_NAME, "Layer 1", "L1H0");
    await frameWith(s.page, "#head-1-0:not(.pending) .card");
    const row = s.page.locator(`.monaco-list-row[aria-label^="L1H0, "][aria-label*=", analyzed,"]`);
    await row.waitFor({ timeout: 60_000 });
    await row.hover();
    const tip = s.page.locator(".monaco-hover, .workbench-hover", { hasText: "top key" });
    await tip.waitFor({ timeout: 15_000 });
    await s.page.waitForTimeout(500);
    const text = (await tip.innerText()).replace(/\u00a0/g, " ");
    // Every problem at once: what is missing, what became markup, what the CSP refused.
    const problems = SHOWN.filter((t) => !text.includes(t)).map((t) => `not shown literally: ${t}`);
    if (!text.includes(LONG_TOKEN)) problems.push("the 5 000-character token is not whole");
    problems.push(...(await activeContent(tip)), ...cspMessages);
    // Item 7: the composition line names the random baseline and says what the composition means.
    if (!/random baseline/.test(text)) problems.push("no random baseline");
    if (!/K-composition: /.test(text)) problems.push("no word on what K-composition means");
    await s.page.screenshot({ path: join(OUT, "hostile-tree-tooltip-light.png") });
    assert.deepEqual(problems, [], text.slice(0, 2500));
    await s.page.mouse.move(800, 900);
    assert.deepEqual(cspMessages, [], "no Content Security Policy violation");
  });

  test("5: the attention panel and the editor's attention hovers show hostile tokens as literal text", async () => {
    await openFile(s.page, "hostile.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention"); // the editor's model: hostile_*tokens*, analyzed last
    await answerIfAsked(HOSTILE_MODEL_NAME);
    const f = await frameWith(s.page, ".thumb[data-layer='0'][data-head='0']");
    await f.locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    await f.locator(".thumb[data-layer='0'][data-head='0']").click();
    // The strip's tokens: literal, the long one cut, whole in its tooltip.
    const strip = await f.locator(".strip .tok").allInnerTexts();
    // Each literally: whole, or cut with "…" (its tooltip has it whole).
    const shows = (t: string) => strip.some((x) => x === t || (x.endsWith("…") && t.startsWith(x.slice(0, -1))));
    for (const t of ["<img src=x onerror=alert(1)>", "[x](command:workbench.action.closeWindow)", "$(zap)", "&amp;", "**bold**", "\\"])
      assert.ok(shows(t), `strip shows ${t}: ${JSON.stringify(strip.slice(0, 20))}`);
    assert.ok(
      await f.locator(".strip .tok[title*='[x](command:workbench.action.closeWindow)']").count(),
      "the link's whole text in its tooltip",
    );
    const long = f.locator(".strip .tok", { hasText: "begin" }).first();
    assert.ok((await long.innerText()).length < 200, "the long token is cut in the strip");
    assert.ok((await long.getAttribute("title"))?.includes(LONG_TOKEN), "and whole in its tooltip");
    assert.equal(await f.locator(".strip svg, .strip img").count(), 0);
    // The details of the query after the long token: top next tokens and what L0H0 attends to.
    const afterLong = Number(await long.getAttribute("data-i")) + 2;
    await f.locator(`.strip .tok[data-i='${afterLong}']`).hover();
    await f.locator(".details .attended li").first().waitFor();
    await f.locator(".details ol.top li").first().waitFor({ timeout: 30_000 });
    // Editor: L0H0's attention from the cursor's token; the hover on a hostile key token is literal.
    const lines = HOSTILE_TEXT.split("\n");
    const imgLine = lines.indexOf("<img src=x onerror=alert(1)>") + 1;
    await s.page.locator('.tab[aria-label^="hostile.txt"]').first().click(); // the editor's focus (its 5 000-character line makes its centre no target)
    await s.page.keyboard.press("Control+G");
    await s.page.locator(".quick-input-widget input").fill(`:${imgLine + 4}:2`);
    await s.page.keyboard.press("Enter");
    await s.page.waitForTimeout(1500);
    // Line k of the text is token 1 + 2k (after BOS; a line break between tokens): the hover names that position.
    for (const [needle, shown] of [
      ["onerror", "'<img src=x onerror=alert(1)>'"],
      ["closeWindow", "'[x](command:workbench.action.closeWindow)'"],
      ["value", "In L0H0"], // the editor's head follows the attention panel's (L0H0, clicked above)
    ]) {
      const hover = await hoverText(
        needle,
        needle === "value" ? "In L0H0" : `(position ${1 + 2 * lines.findIndex((l) => l.includes(needle))})`,
      );
      const text = (await hover.innerText()).replace(/\u00a0/g, " ");
      assert.ok(text.includes(shown), `the editor hover shows ${shown}: ${text}`);
      assert.deepEqual(await activeContent(hover), []);
      if (needle === "value")
        assert.ok(
          SHOWN.some((t) => text.includes(t)),
          `hostile tokens among the head's outputs and keys: ${text}`,
        );
    }
    await s.page.mouse.move(800, 900);
    assert.deepEqual(cspMessages, [], "no Content Security Policy violation");
  });

  test("4: the token table of the 5 000-character token fits its panel; the token is whole in a tooltip", async () => {
    await showTab(`Head Lens: ${HOSTILE_MODEL_NAME}`); // a webview: no word under a cursor, so the command asks for text
    await runCommand(s.page, "Head Lens: Which Heads Use a Token…", HOSTILE_MODEL_NAME);
    const input = s.page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible" });
    await input.fill(LONG_TOKEN);
    await s.page.waitForTimeout(800);
    await s.page.keyboard.press("Enter");
    const f = await frameWith(s.page, TOKENS);
    await f.locator(".status", { hasText: "All 4 heads." }).waitFor({ timeout: 120_000 });
    const name = f.locator("h1 .token-name");
    assert.ok((await name.innerText()).length < 200, "the title cuts the token");
    assert.ok((await name.getAttribute("title"))?.includes(LONG_TOKEN), "its tooltip has it whole");
  });

  test("1, 4: in four themes, token text keeps its contrast and no page is wider than its panel (axe-core clean; screenshots)", async () => {
    const themes: [string, string, string][] = [
      // The picker's labels of Default Light Modern, Default Dark Modern, Default High Contrast, Default High Contrast Light.
      ["light", "Light Modern", "vs"],
      ["dark", "Dark Modern", "vs-dark"],
      ["hc-dark", "Dark High Contrast", "hc-black"],
      ["hc-light", "Light High Contrast", "hc-light"],
    ];
    const problems: string[] = [];
    for (const [name, theme, cls] of themes) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      for (const p of PAGES) {
        await showTab(p.tab);
        const f = await frameWith(s.page, p.ready);
        if (p.name === "attention") await f.locator(".details ol.top li").first().waitFor({ timeout: 30_000 });
        if (p.name === "heads") await f.locator(".chip").first().waitFor({ timeout: 30_000 });
        await s.page.waitForTimeout(500);
        const c = await contrastFailures(f, p.tokens);
        if (c.checked < 4) problems.push(`${p.name}, ${name}: only ${c.checked} token elements`);
        problems.push(...c.failures.map((x) => `${p.name}, ${name}: ${x}`));
        const wide = await overflow(f);
        if (wide.px > 2) problems.push(`${p.name}, ${name}: the page is ${wide.px} px wider than its panel: ${wide.past.join(", ")}`);
        const bad = await axeSeriousViolations(f);
        if (bad.length) problems.push(`${p.name}, ${name}: axe: ${JSON.stringify(bad)}`);
        await s.page.screenshot({ path: join(OUT, `hostile-${p.name}-${name}.png`) });
      }
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
    assert.deepEqual(problems, []);
  });

  test("4: long tokens are cut in the heads panel and whole in their tooltips", async () => {
    await showTab(`Head Lens: ${HOSTILE_MODEL_NAME}`);
    const f = await frameWith(s.page, HEADS);
    const key = f.locator(".key-token", { hasText: "begin" }).first();
    assert.ok((await key.innerText()).length < 200, "the key is cut");
    assert.ok((await key.getAttribute("title"))?.includes(LONG_TOKEN), "whole in its tooltip");
    const chip = f.locator(".chip", { hasText: "begin" }).first();
    assert.ok((await chip.innerText()).length < 200, "a chip is cut");
    await s.page.waitForTimeout(1000); // the page refills its sections after the theme changes
    await chip.scrollIntoViewIfNeeded();
    await chip.hover();
    const tip = f.locator(".tooltip");
    await tip.waitFor({ timeout: 10_000 });
    assert.ok((await tip.innerText()).includes(LONG_TOKEN), "the chip's tooltip has it whole");
    const wide = await overflow(f);
    assert.ok(wide.px <= 2, `the page with the tooltip is ${wide.px} px too wide: ${wide.past.join(", ")}`);
    assert.deepEqual(cspMessages, []);
  });
});
