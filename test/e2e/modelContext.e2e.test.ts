/**
 * Issue #21, items 2, 3 and 7 (labels), in real VS Code: the editor's model context (status bar,
 * hover, inline attention label) follows the panel the user last worked in, so two models are never
 * described at once without a name; the engine's status item says what its time measured; the head
 * metrics stay beside the attention panel's heads after a change of model and back; and the grid's
 * scores say they come from fixed random sequences, next to the same scores measured on the text.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { hoverWord, openFile, screenshotFailures, vsix } from "./uxSupport";

const OUT = join(REPO, "test-output");
/** 24 words, each one token of the demo models' vocabulary, in a fixed order, written twice: a repeated passage. */
const WORDS = [
  "system",
  "people",
  "country",
  "number",
  "string",
  "world",
  "public",
  "water",
  "history",
  "market",
  "table",
  "class",
  "method",
  "error",
  "point",
  "school",
  "program",
  "energy",
  "policy",
  "future",
  "health",
  "trade",
  "peace",
  "budget",
];
const COPY = WORDS.map((w) => ` ${w}`).join("");
const REPEATED = `${COPY}${COPY}\n`;

let s: Session;
const panel = () => panelFrame(s.page);
/** The status bar item of the editor's model context ("Head Lens: demo-attn-2l · L1H0"). */
const contextItem = () => s.page.locator(".statusbar-item", { hasText: "Head Lens:" }).filter({ hasText: "·" });
/** The engine's status item: its provider and what its time measured. */
const engineItem = () =>
  s.page.locator(".statusbar-item", { hasText: /\b(CPU|CUDA|DML|COREML|WEBGPU)\b/ }).filter({ hasNotText: "Head Lens:" });

before(async () => {
  mkdirSync(OUT, { recursive: true });
  s = await startVSCode(
    vsix(),
    {
      "repeated.txt": REPEATED,
      "notes.md": "# Notes\n\nThe function returns the value of the key.\n",
      "plain.txt": " river of cold light\n",
    },
    { "headLens.attention.debounceMs": 200 },
  );
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "model-context-");

/** Puts the cursor inside word k of the passage's second copy through Go to Line. */
async function cursorInSecondCopy(page: Page, k: number): Promise<void> {
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  const column = COPY.length + WORDS.slice(0, k).reduce((n, w) => n + w.length + 1, 0) + 3;
  await input.fill(`:1:${column}`);
  await page.keyboard.press("Enter");
}

/** The editor's inline attention labels (the text after the framed query token). */
async function inlineLabels(page: Page): Promise<string[]> {
  return page
    .locator(".editor-instance .view-lines")
    .first()
    .evaluate((root) =>
      [...root.querySelectorAll("span")]
        .map((e) => getComputedStyle(e, "::after").content)
        .filter((t) => t && t !== "none" && t !== "normal" && /L\dH\d/.test(t)),
    );
}

async function waitForLabel(page: Page, re: RegExp): Promise<string[]> {
  let labels: string[] = [];
  for (let i = 0; i < 100 && !labels.some((t) => re.test(t)); i++) {
    await page.waitForTimeout(100);
    labels = await inlineLabels(page);
  }
  return labels;
}

/** Each head's score line ("ind 0.41 · prev 0.02"), by its class, keyed "L1H0". */
async function gridScores(cls: string): Promise<Record<string, string>> {
  return panel()
    .locator(".thumb")
    .evaluateAll(
      (els, c) =>
        Object.fromEntries(
          els.map((e) => [
            `L${(e as HTMLElement).dataset.layer}H${(e as HTMLElement).dataset.head}`,
            e.querySelector(`.${c}`)?.textContent ?? "",
          ]),
        ),
      cls,
    );
}

/** Runs Show Attention on all of `file` under `model` (answering the model pick if there is one, else Change model…). */
async function showAttentionOn(file: string, model: string, settled = true): Promise<void> {
  await openFile(s.page, file);
  await s.page.keyboard.press("Control+A");
  await runCommand(s.page, "Head Lens: Show Attention");
  const row = s.page.locator(".quick-input-widget .monaco-list-row", { hasText: model }).first();
  const asked = await row
    .waitFor({ state: "visible", timeout: 5000 })
    .then(() => true)
    .catch(() => false);
  if (asked) await answerPicks(s.page, model);
  await panel().locator(".meta", { hasText: file }).waitFor({ timeout: 60_000 });
  if (
    !(await panel()
      .locator("h1", { hasText: `Attention · ${model}` })
      .isVisible())
  )
    await changeModel(model, settled);
}

/** The attention panel's Change model… */
async function changeModel(model: string, settled = true): Promise<void> {
  await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).click();
  await panel().locator("button.link", { hasText: "Change model…" }).click();
  await answerPicks(s.page, model);
  await panel()
    .locator("h1", { hasText: `Attention · ${model}` })
    .waitFor({ timeout: 60_000 });
  if (settled) await panel().locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
}

const score = (line: string, name: string) => Number(new RegExp(`${name} (\\d\\.\\d\\d)`).exec(line)?.[1] ?? NaN);

describe("issue #21: one model context in the editor; head metrics and their labels", () => {
  test("2: in a fresh window, Show Attention on demo-attn-2l: status bar and hover name demo-attn-2l; the engine item says attention", async () => {
    await openFile(s.page, "repeated.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention", "demo-attn-2l");
    await panel().locator(".thumb").nth(7).waitFor({ timeout: 120_000 });
    await panel().locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    await contextItem().filter({ hasText: "Head Lens: demo-attn-2l" }).waitFor({ timeout: 10_000 });
    // The time beside the provider is the attention run's, and says so (not a bare "CPU · 0.57 s").
    await engineItem()
      .filter({ hasText: /attention \d+\.\d\d s/ })
      .waitFor({ timeout: 10_000 });
    const aria = (await engineItem().getAttribute("aria-label")) ?? "";
    assert.match(aria, /attention run of demo-attn-2l/, aria);
    assert.match(await hoverWord(s.page, "notes.md", "function", "Head Lens"), /Head Lens: demo-attn-2l/);
  });

  test("2: L1H0 in 2l, Change model… to 1l, L0H3 there: status bar, hover and inline label all name demo-attn-1l · L0H3", async () => {
    await openFile(s.page, "repeated.txt");
    await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).click();
    await panel().locator(".thumb[data-layer='1'][data-head='0']").click();
    await contextItem().filter({ hasText: "Head Lens: demo-attn-2l · L1H0" }).waitFor({ timeout: 10_000 });
    await panel().locator("button.link", { hasText: "Change model…" }).click();
    await answerPicks(s.page, "demo-attn-1l");
    await panel().locator("h1", { hasText: "Attention · demo-attn-1l" }).waitFor({ timeout: 60_000 });
    await panel().locator(".thumb").nth(3).waitFor({ timeout: 60_000 });
    await panel().locator(".thumb[data-layer='0'][data-head='3']").click();
    await panel().locator(".big canvas[data-head='L0H3']").waitFor({ timeout: 30_000 });
    await contextItem().filter({ hasText: "Head Lens: demo-attn-1l · L0H3" }).waitFor({ timeout: 10_000 });
    await cursorInSecondCopy(s.page, 10);
    const labels = await waitForLabel(s.page, /L0H3/);
    assert.ok(
      labels.some((t) => /demo-attn-1l L0H3 from/.test(t)),
      `the inline label names the model: ${labels}`,
    );
    const hover = await hoverWord(s.page, "notes.md", "function", "Head Lens");
    assert.match(hover, /Head Lens: demo-attn-1l · L0H3/);
    assert.match(hover, /In L0H3/);
    await s.page.screenshot({ path: join(OUT, "model-context-1l-light.png") });
  });

  test("3: demo-attn-2l → Change model… → demo-attn-1l → back to 2l: every head keeps its metric lines, on this file and on another", async () => {
    // As a user does in a fresh window: the next model before the metrics of the last one have come.
    await showAttentionOn("repeated.txt", "demo-attn-2l", false);
    await changeModel("demo-attn-1l", false);
    await changeModel("demo-attn-2l", false);
    const linesOn = async () => {
      let lines: Record<string, string> = {};
      for (let i = 0; i < 100; i++) {
        lines = await gridScores("metrics");
        if (Object.keys(lines).length === 8 && Object.values(lines).every((t) => /ind \d\.\d\d · prev \d\.\d\d · copy/.test(t))) break;
        await s.page.waitForTimeout(200);
      }
      return lines;
    };
    let lines = await linesOn();
    assert.equal(Object.keys(lines).length, 8);
    for (const [h, t] of Object.entries(lines)) assert.match(t, /ind \d\.\d\d · prev \d\.\d\d · copy/, `${h}: ${JSON.stringify(lines)}`);
    // Another file, the same model: the lines are there too.
    await openFile(s.page, "plain.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    await panel().locator(".meta", { hasText: "plain.txt" }).waitFor({ timeout: 60_000 });
    lines = await linesOn();
    for (const [h, t] of Object.entries(lines))
      assert.match(t, /ind \d\.\d\d · prev \d\.\d\d · copy/, `${h} on plain.txt: ${JSON.stringify(lines)}`);
  });

  test("7: the grid's scores say they come from random sequences; the same scores on the text: L1H0 induction and L0H3 previous-token high", async () => {
    // plain.txt repeats no token: no induction score on it.
    await panel().locator(".text-scores").first().waitFor({ timeout: 30_000 });
    const plain = await gridScores("text-scores");
    assert.match(plain.L1H0, /ind n\/a/, JSON.stringify(plain));
    assert.match(await panel().locator(".grid-section").innerText(), /n\/a \(no repeated tokens\)/);
    await openFile(s.page, "repeated.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    await panel().locator(".meta", { hasText: "repeated.txt" }).waitFor({ timeout: 60_000 });
    let text: Record<string, string> = {};
    for (let i = 0; i < 100 && !/ind \d/.test(text.L1H0 ?? ""); i++) {
      await s.page.waitForTimeout(100);
      text = await gridScores("text-scores");
    }
    const random = await gridScores("metrics");
    // Each line says what it measured on, and its tooltip defines it.
    assert.match(random.L1H0, /^random: ind/, JSON.stringify(random));
    assert.match(text.L1H0, /^text: ind/, JSON.stringify(text));
    const randomTip = (await panel().locator(".thumb[data-layer='1'][data-head='0'] .metrics").getAttribute("title")) ?? "";
    assert.match(randomTip, /random/i);
    assert.match(randomTip, /not (on )?(this|your) text/i);
    const textTip = (await panel().locator(".thumb[data-layer='1'][data-head='0'] .text-scores").getAttribute("title")) ?? "";
    assert.match(textTip, /token after/i);
    assert.match(textTip, /previous token/i);
    // The repeated passage: L1H0 (the induction head) attends to the token after the first occurrence,
    // L0H3 (the previous-token head) to the token before.
    // Highest of all heads, and far above a head that ignores the passage (the first word of the second
    // copy cannot be predicted, so the mean over the copy stays below the stripe's weights).
    const heads = Object.keys(text);
    const best = (name: string) => heads.reduce((a, b) => (score(text[b], name) > score(text[a], name) ? b : a));
    assert.equal(best("ind"), "L1H0", JSON.stringify(text));
    assert.equal(best("prev"), "L0H3", JSON.stringify(text));
    assert.ok(score(text.L1H0, "ind") > 0.35, `L1H0 on the text: ${text.L1H0}`);
    assert.ok(score(text.L0H3, "prev") > 0.35, `L0H3 on the text: ${text.L0H3}`);
    // The enlarged head's title says which score is which.
    await panel().locator(".thumb[data-layer='1'][data-head='0']").click();
    const title = panel().locator(".enlarged h2", { hasText: "on this text" });
    await title.waitFor({ timeout: 30_000 });
    const t = await title.innerText();
    assert.match(t, /L1H0 · on this text: induction \d\.\d\d · previous token \d\.\d\d/);
    assert.match(t, /on random sequences: induction \d\.\d\d · previous token \d\.\d\d · copying \d\.\d\d/);
    await s.page.screenshot({ path: join(OUT, "model-context-scores-light.png") });
  });

  test("2: the heads panel takes the context (the inline label of 2l goes); a status-bar pick of a 2l head brings it back", async () => {
    await openFile(s.page, "repeated.txt");
    await cursorInSecondCopy(s.page, 12);
    await waitForLabel(s.page, /demo-attn-2l L1H0/);
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-1l", "L0H1");
    await contextItem().filter({ hasText: "Head Lens: demo-attn-1l · L0H1" }).waitFor({ timeout: 60_000 });
    await engineItem()
      .filter({ hasText: /analysis \d+\.\d\d s/ })
      .waitFor({ timeout: 120_000 });
    assert.match((await engineItem().getAttribute("aria-label")) ?? "", /analysis of L0H1 of demo-attn-1l/);
    await openFile(s.page, "repeated.txt");
    await cursorInSecondCopy(s.page, 13);
    await s.page.waitForTimeout(1000);
    assert.deepEqual(await inlineLabels(s.page), [], "no label of demo-attn-2l while the context is demo-attn-1l");
    assert.match(await hoverWord(s.page, "notes.md", "function", "Head Lens"), /Head Lens: demo-attn-1l · L0H1/);
    // Picking demo-attn-2l's L0H3 from the status bar: the attention panel (demo-attn-2l) enlarges it, the label follows.
    await contextItem().click();
    await answerPicks(s.page, "demo-attn-2l", "L0H3");
    await contextItem().filter({ hasText: "Head Lens: demo-attn-2l · L0H3" }).waitFor({ timeout: 10_000 });
    await openFile(s.page, "repeated.txt");
    await cursorInSecondCopy(s.page, 14);
    const labels = await waitForLabel(s.page, /demo-attn-2l L0H3/);
    assert.ok(
      labels.some((t) => /demo-attn-2l L0H3 from/.test(t)),
      `${labels}`,
    );
    await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).click();
    await panel().locator(".thumb.chosen[data-layer='0'][data-head='3']").waitFor({ timeout: 10_000 });
  });

  test("7: the score lines are readable (≥ 4.5:1) in dark, high-contrast dark and light themes (screenshots)", async () => {
    await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).click();
    await panel().locator(".enlarged h2", { hasText: "on this text" }).waitFor({ timeout: 30_000 });
    for (const [theme, cls, file] of [
      ["Dark Modern", "vs-dark", "dark"],
      ["Dark High Contrast", "hc-black", "hc-dark"],
      ["Light High Contrast", "hc-light", "hc-light"],
      ["Light Modern", "vs", "light"],
    ]) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1000);
      const ratios = await panel()
        .locator(".thumb .text-scores, .thumb .metrics")
        .evaluateAll((els) => {
          const rgb = (c: string) =>
            (/rgba?\(([^)]+)\)/.exec(c)?.[1] ?? "")
              .split(/[\s,/]+/)
              .filter(Boolean)
              .map(Number);
          const lum = (c: number[]) =>
            c
              .slice(0, 3)
              .map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
              .reduce((a, v, i) => a + [0.2126, 0.7152, 0.0722][i] * v, 0);
          const background = (e: Element | null): number[] => {
            for (; e; e = e.parentElement) {
              const c = rgb(getComputedStyle(e).backgroundColor);
              if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
            }
            return [255, 255, 255];
          };
          return els
            .filter((e) => e.textContent)
            .map((e) => {
              const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))].sort((x, y) => y - x);
              return (a + 0.05) / (b + 0.05);
            });
        });
      assert.ok(ratios.length >= 16 && Math.min(...ratios) >= 4.5, `${theme}: ${ratios.map((r) => r.toFixed(2))}`);
      await s.page.screenshot({ path: join(OUT, `model-context-scores-${file}.png`) });
    }
  });
});
