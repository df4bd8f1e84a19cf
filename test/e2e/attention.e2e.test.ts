/**
 * Live attention in real VS Code: select text → Show Attention → the grid of every head renders;
 * enlarging demo-attn-2l's L1H0 on a repeated random-word text shows the induction stripe (read
 * from the panel's own tooltip); moving the cursor in the editor highlights what the head attends
 * to; edits re-run the model; bad input gives one message. Screenshots in light, dark and high
 * contrast go to test-output/.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { openFile, screenshotFailures, vsix, reloadWindow } from "./uxSupport";
import { randomWeights, writeModelDir } from "../support/models";

const OUT = join(REPO, "test-output");
const WORDS = [
  "value",
  "system",
  "return",
  "people",
  "government",
  "country",
  "number",
  "string",
  "file",
  "data",
  "world",
  "state",
  "public",
  "power",
  "money",
  "water",
  "history",
  "family",
  "market",
  "table",
  "model",
  "class",
  "method",
  "object",
  "error",
  "result",
  "point",
  "house",
  "school",
  "children",
  "program",
  "energy",
  "policy",
  "nation",
  "freedom",
  "future",
  "health",
  "labor",
  "trade",
  "peace",
  "security",
  "union",
  "budget",
  "growth",
  "science",
  "income",
  "problem",
  "question",
  "answer",
  "reason",
  "example",
  "format",
  "module",
  "index",
  "length",
  "window",
  "buffer",
];
/** 30 words in a seeded random order, each one GPT-2 token in demo-attn-2l's vocabulary, written twice. */
function repeatedWords(): string[] {
  let x = 12345;
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return [...WORDS].sort(() => rand() - 0.5).slice(0, 30);
}
const R = repeatedWords();
const COPY = R.map((w) => ` ${w}`).join("");
const INDUCTION_TEXT = `${COPY}${COPY}\n`;
const CODE = `import json


def load_config(path):
    with open(path) as f:
        return json.load(f)


def main():
    config = load_config("settings.json")
    print(config["name"])
`;

let s: Session;
const panel = () => panelFrame(s.page);

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // A model with a context of 1 024 tokens and GPT-2's whole vocabulary (random weights).
  const w = randomWeights({ V: 50257, D: 64, H: 4, E: 16, L: 2, seed: 11, name: "wide-ctx" });
  w.config.n_ctx = 1024;
  w.W_pos = { shape: [1024, 64], data: new Float32Array(1024 * 64).map((_, i) => Math.sin(i * 12.9898) * 0.1) };
  const wideDir = writeModelDir(join(mkdtempSync(join(tmpdir(), "head-lens-e2e-attn-")), "wide-ctx"), w, "F16");
  s = await startVSCode(
    vsix(),
    { "induction.txt": INDUCTION_TEXT, "example.py": CODE, "empty.txt": "", "long.txt": `${COPY}\n`.repeat(40) },
    { "headLens.attention.debounceMs": 200, "editor.wordWrap": "on", "headLens.modelFolders": [wideDir] },
  );
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "attention-");

/** Puts the cursor at line:column (1-based) through Go to Line. */
async function gotoPosition(page: Page, line: number, column: number): Promise<void> {
  await page.locator(".editor-instance .monaco-editor .view-lines").first().click(); // the text editor, not the panel, has focus
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press("Enter");
}

/** Background alphas of the editor's attention highlights (rgba(0, 95, 210, a) in light themes). */
/** The lowest text contrast among the logit-attribution cells (grid and details), and how many there are. */
async function dlaContrast(): Promise<{ cells: number; worst: number }> {
  return panel()
    .locator(".dla, .dla-table td")
    .evaluateAll((els) => {
      const rgb = (c: string) =>
        (/rgba?\(([^)]+)\)/.exec(c)?.[1] ?? "")
          .split(/[\s,/]+/)
          .filter(Boolean)
          .slice(0, 3)
          .map(Number);
      const lum = (c: number[]) =>
        c
          .map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
          .reduce((s, v, i) => s + [0.2126, 0.7152, 0.0722][i] * v, 0);
      const shown = els.filter((e) => e.textContent && (e as HTMLElement).style.background);
      const ratios = shown.map((e) => {
        const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(getComputedStyle(e).backgroundColor))].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
      });
      return { cells: shown.length, worst: Math.min(...ratios) };
    });
}

async function highlightAlphas(page: Page, rgb: string): Promise<number[]> {
  return page
    .locator(".monaco-editor .view-overlays, .monaco-editor .view-lines")
    .first()
    .evaluate((_, rgbPrefix) => {
      const out: number[] = [];
      for (const e of document.querySelectorAll(".monaco-editor .view-overlays div, .monaco-editor .view-lines span")) {
        const m = new RegExp(`rgba\\(${rgbPrefix}, ([\\d.]+)\\)`).exec(getComputedStyle(e).backgroundColor);
        if (m) out.push(Number(m[1]));
      }
      return out;
    }, rgb);
}

describe("live attention in VS Code", () => {
  test("Choose Attention Head before any run says what to run first, naming the command as the palette does", async () => {
    await runCommand(s.page, "Head Lens: Choose Attention Head…");
    const toast = s.page.locator(".notification-toast", { hasText: "no attention run yet" });
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.innerText(), /Head Lens: Choose Attention Head: no attention run yet: run Head Lens: Show Attention first/);
    await toast.locator(".codicon-notifications-clear").click();
    await toast.waitFor({ state: "detached" });
  });

  test("select text → Show Attention renders every head; L1H0 enlarged shows the induction stripe", async () => {
    await openFile(s.page, "induction.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention", "demo-attn-2l");
    await panel().locator(".thumb").nth(7).waitFor({ timeout: 120_000 });
    assert.equal(await panel().locator(".thumb").count(), 8, "2 layers × 4 heads");
    const meta = await panel().locator(".meta").innerText();
    assert.match(meta, /induction\.txt, selection, line 1 · 62 tokens \(BOS prepended\)/); // BOS, 2 × 30 words, "\n"
    await panel().locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    await panel().locator(".thumb[data-layer='1'][data-head='0']").click();
    const big = panel().locator(".big canvas[data-head='L1H0']");
    await big.waitFor({ timeout: 30_000 });
    const geo = await big.evaluate((c) => ({ ...(c as HTMLCanvasElement).dataset }));
    const T = Number(geo.t),
      cell = Number(geo.cell),
      ox = Number(geo.originX),
      oy = Number(geo.originY);
    assert.equal(T, 2 + 2 * R.length);
    // From each token of the second copy, the weight on the token after its first occurrence.
    const weights: number[] = [];
    for (let k = 2; k < R.length - 1; k += 3) {
      const q = 1 + R.length + k,
        key = 1 + k + 1;
      await big.hover({ position: { x: ox + (key + 0.5) * cell, y: oy + (q + 0.5) * cell } });
      const tip = panel().locator(".cell-tip");
      await tip.filter({ hasText: `query ${q} ` }).waitFor();
      assert.equal(await tip.getAttribute("data-key"), String(key));
      weights.push(Number(await tip.getAttribute("data-weight")));
    }
    const mean = weights.reduce((a, b) => a + b, 0) / weights.length;
    assert.ok(mean > 0.5, `L1H0 induction stripe: mean weight ${mean.toFixed(3)} (${weights.map((w) => w.toFixed(2)).join(", ")})`);
    await s.page.screenshot({ path: join(OUT, "attention-panel-light.png") });
  });

  test("hovering a token in the strip colours the tokens it attends to and lists the top positions", async () => {
    const k = 10,
      q = 1 + R.length + k;
    await panel().locator(`.strip .tok[data-i='${q}']`).hover();
    await panel().locator(".details .attended li").first().waitFor();
    // Heads park the rest of their attention on BOS: the induction target is next to it at the top.
    const listed = await panel()
      .locator(".details .attended li")
      .evaluateAll((els) =>
        els.map((e) => ({ key: Number((e as HTMLElement).dataset.key), w: Number((e as HTMLElement).dataset.weight) })),
      );
    const target = listed.find((x) => x.key === 1 + k + 1);
    assert.ok(
      target && target.w > 0.15 && listed.slice(0, 3).includes(target),
      `the token after the first occurrence is among the top three: ${JSON.stringify(listed)}`,
    );
    assert.deepEqual(
      listed.map((x) => x.w),
      [...listed.map((x) => x.w)].sort((a, b) => b - a),
      "strongest first",
    );
    assert.match(await panel().locator(".details").innerText(), /top next tokens/i);
    const coloured = await panel()
      .locator(".strip .tok")
      .evaluateAll((els) => els.filter((e) => (e as HTMLElement).style.background !== "").length);
    assert.ok(coloured > 1);
    // The panel maximized (wide layout: heads and tokens left, the enlarged head right), for the README.
    await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).click();
    await runCommand(s.page, "View: Toggle Maximize Editor Group");
    await panel()
      .locator(".layout")
      .evaluate((e) => window.scrollTo(0, 0) ?? e);
    await panel().locator(`.strip .tok[data-i='${q}']`).hover();
    await s.page.waitForTimeout(500);
    await s.page.screenshot({ path: join(OUT, "attention-panel-wide.png") });
    // Side by side, not on top of each other: the enlarged head (its long title included) leaves the heads their room.
    const box = async (sel: string) => (await panel().locator(sel).first().boundingBox())!;
    const [grid, enlarged, thumb] = [await box(".grid-section"), await box(".enlarged"), await box(".thumb")];
    assert.ok(
      grid.x + grid.width <= enlarged.x + 1,
      `the heads (right edge ${grid.x + grid.width}) overlap the enlarged head (${enlarged.x})`,
    );
    assert.ok(thumb.width >= 100, `a head's thumbnail is ${thumb.width} px wide`);
    await runCommand(s.page, "View: Toggle Maximize Editor Group");
  });

  test("moving the cursor in the editor highlights what L1H0 attends to, and the panel follows", async () => {
    await runCommand(s.page, "View: Close Primary Side Bar"); // room for the editor and the panel side by side
    const k = 14;
    const column = COPY.length + R.slice(0, k).reduce((n, w) => n + w.length + 1, 0) + 3; // inside word k of the second copy
    await gotoPosition(s.page, 1, column);
    const q = 1 + R.length + k;
    await panel()
      .locator(".details h3", { hasText: `Position ${q}:` })
      .waitFor({ timeout: 10_000 });
    const top = await panel()
      .locator(".details .attended li")
      .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.key)));
    assert.ok(top.slice(0, 2).includes(1 + k + 1), `L1H0 attends from position ${q} to ${1 + k + 1}: ${top}`);
    let alphas: number[] = [];
    for (let i = 0; i < 50 && alphas.length === 0; i++) {
      await s.page.waitForTimeout(100);
      alphas = await highlightAlphas(s.page, "0, 95, 210");
    }
    assert.ok(alphas.length > 0, "the editor shows attention highlights");
    // BOS has no place in the text: the strongest highlight is the strongest key in the text.
    const w = Number(
      await panel()
        .locator(`.details .attended li[data-key='${1 + k + 1}']`)
        .getAttribute("data-weight"),
    );
    assert.ok(
      alphas.some((a) => Math.abs(a - (0.75 * Math.round(w * 20)) / 20) < 0.01),
      `a highlight of opacity ${(0.75 * Math.round(w * 20)) / 20} for weight ${w}: ${alphas}`,
    );
    // The query token is framed, with the head's name and its weight on BOS after it.
    const labels = await s.page
      .locator(".editor-instance .view-lines")
      .first()
      .evaluate((root) =>
        [...root.querySelectorAll("span")]
          .map((e) => e.textContent + getComputedStyle(e, "::after").content)
          .filter((t) => t.includes("L1H0")),
      );
    assert.ok(
      labels.some((t) => /L1H0 from ' [a-z]+' · BOS [01]\.\d\d/.test(t)),
      `query label: ${labels}`,
    );
    await s.page.screenshot({ path: join(OUT, "attention-editor-light.png") });
    // Another cursor position, another query token: the highlights follow.
    await gotoPosition(s.page, 1, COPY.length + R.slice(0, 5).reduce((n, w2) => n + w2.length + 1, 0) + 3);
    await panel()
      .locator(".details h3", { hasText: `Position ${1 + R.length + 5}:` })
      .waitFor({ timeout: 10_000 });
  });

  test("the cursor moving inside one token tells the panel nothing; moving to the next token tells it once", async () => {
    const k = 7; // word k of the second copy: " word", one token of at least 4 letters
    const start = COPY.length + R.slice(0, k).reduce((n, w) => n + w.length + 1, 0);
    await gotoPosition(s.page, 1, start + 2); // just after the token's leading space (columns are 1-based)
    await panel()
      .locator(".details h3", { hasText: `Position ${1 + R.length + k}:` })
      .waitFor({ timeout: 10_000 });
    // Count the "chosen" position messages the page receives from now on.
    await panel()
      .locator("body")
      .evaluate(() => {
        const w = window as unknown as { chosenSeen: number[] };
        w.chosenSeen = [];
        window.addEventListener("message", (e) => {
          const m = e.data as { method?: string; params?: { position?: number } };
          if (m?.method === "chosen" && m.params?.position !== undefined) w.chosenSeen.push(m.params.position);
        });
      });
    const seen = () =>
      panel()
        .locator("body")
        .evaluate(() => (window as unknown as { chosenSeen: number[] }).chosenSeen);
    await s.page.keyboard.press("ArrowRight"); // 2, then 3 characters into " word": still inside it
    await s.page.keyboard.press("ArrowRight");
    await s.page.waitForTimeout(500);
    assert.deepEqual(await seen(), [], "moves inside one token post nothing");
    // From 3 characters into " word" to the next token's leading space.
    for (let i = 3; i < R[k].length + 1; i++) await s.page.keyboard.press("ArrowRight");
    await panel()
      .locator(".details h3", { hasText: `Position ${2 + R.length + k}:` })
      .waitFor({ timeout: 10_000 });
    assert.deepEqual(await seen(), [2 + R.length + k], "the next token is posted once");
  });

  test("an edit re-runs the model (debounced) on the edited text", async () => {
    await gotoPosition(s.page, 1, 2 * COPY.length + 1); // the end of the line (End would stop at the wrap)
    await s.page.keyboard.type(" peace", { delay: 30 });
    await panel().locator(".meta", { hasText: "63 tokens" }).waitFor({ timeout: 30_000 });
  });

  test("Show Attention without a selection runs on the text around the cursor (natural code)", async () => {
    await openFile(s.page, "example.py");
    await gotoPosition(s.page, 10, 20);
    await runCommand(s.page, "Head Lens: Show Attention");
    await panel().locator(".meta", { hasText: "example.py, text around the cursor, lines 1–11" }).waitFor({ timeout: 60_000 });
    await panel().locator(".big canvas[data-head='L1H0']").waitFor({ timeout: 30_000 });
    await panel().locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    await s.page.waitForTimeout(500);
    await s.page.screenshot({ path: join(OUT, "attention-code-light.png") });
  });

  test("a text longer than n_ctx runs on its last tokens, and the panel says so", async () => {
    await openFile(s.page, "long.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    await panel().locator(".meta", { hasText: "long.txt, selection, lines 1–40 · 256 tokens" }).waitFor({ timeout: 60_000 });
    assert.match(
      await panel().locator(".notice").innerText(),
      /longer than the model's context \(n_ctx 256\): its first [0-9,]+ tokens were dropped/,
    );
  });

  test("an empty file gives one clear message; the extension keeps working", async () => {
    await openFile(s.page, "empty.txt");
    await runCommand(s.page, "Head Lens: Show Attention");
    // Nothing to run on: one information message naming the file, no error, no model asked for (issue #21).
    const toast = s.page.locator(".notification-toast", { hasText: "empty.txt is empty" });
    await toast.waitFor({ timeout: 30_000 });
    assert.equal(await s.page.locator(".notification-toast", { hasText: "Head Lens" }).count(), 1);
    assert.equal(await toast.locator(".codicon-error").count(), 0, "not an error");
    await toast
      .locator(".codicon-notifications-clear")
      .click()
      .catch(() => undefined);
    await openFile(s.page, "induction.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    await panel().locator(".meta", { hasText: "induction.txt, selection" }).waitFor({ timeout: 60_000 });
  });

  test("the attention panel and editor highlights in the dark and high-contrast themes (screenshots)", async () => {
    await panel().locator(".big canvas[data-head='L1H0']").waitFor({ timeout: 30_000 });
    const k = 14;
    await gotoPosition(s.page, 1, COPY.length + R.slice(0, k).reduce((n, w) => n + w.length + 1, 0) + 3);
    // Logit attributions keep their text readable (≥ 4.5:1) in every theme.
    await panel().locator(".grid .dla", { hasText: "DLA" }).first().waitFor({ timeout: 30_000 });
    const light = await dlaContrast();
    assert.ok(light.cells >= 8 && light.worst >= 4.5, `light theme: ${JSON.stringify(light)}`);
    await runCommand(s.page, "Preferences: Color Theme", "Dark Modern");
    await s.page.locator(".monaco-workbench.vs-dark").waitFor({ timeout: 30_000 });
    await s.page.waitForTimeout(1000);
    assert.ok((await highlightAlphas(s.page, "64, 156, 255")).length > 0, "dark-theme highlights");
    const dark = await dlaContrast();
    assert.ok(dark.cells >= 8 && dark.worst >= 4.5, `dark theme: ${JSON.stringify(dark)}`);
    await s.page.screenshot({ path: join(OUT, "attention-dark.png") });
    await runCommand(s.page, "Preferences: Color Theme", "Dark High Contrast");
    await s.page.locator(".monaco-workbench.hc-black").waitFor({ timeout: 30_000 });
    await s.page.waitForTimeout(1000);
    assert.ok((await highlightAlphas(s.page, "255, 196, 0")).length > 0, "high-contrast highlights");
    const hc = await dlaContrast();
    assert.ok(hc.cells >= 8 && hc.worst >= 4.5, `high-contrast theme: ${JSON.stringify(hc)}`);
    await s.page.screenshot({ path: join(OUT, "attention-high-contrast.png") });
  });

  test("the attention panel survives a window reload: the same text runs again, L1H0 still enlarged, highlights follow the cursor", async () => {
    await panel().locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    const caption = (meta: string) => meta.split(" · patterns in")[0];
    const before = caption(await panel().locator(".meta").innerText());
    assert.match(before, /^induction\.txt, selection, line 1 · \d+ tokens/);
    await openFile(s.page, "induction.txt");
    await s.page.keyboard.press("Control+S"); // the edit above, on disk: the reload reads the same text
    await s.page.locator(".tab.dirty").waitFor({ state: "detached" });
    await reloadWindow(s.page);
    await panel().locator(".big canvas[data-head='L1H0']").waitFor({ timeout: 120_000 });
    await panel().locator(".thumb.chosen[data-layer='1'][data-head='0']").waitFor();
    assert.equal(caption(await panel().locator(".meta").innerText()), before);
    const k = 14;
    await gotoPosition(s.page, 1, COPY.length + R.slice(0, k).reduce((n, w) => n + w.length + 1, 0) + 3);
    await panel()
      .locator(".details h3", { hasText: `Position ${1 + R.length + k}:` })
      .waitFor({ timeout: 10_000 });
    let alphas: number[] = [];
    for (let i = 0; i < 50 && alphas.length === 0; i++) {
      await s.page.waitForTimeout(100);
      alphas = await highlightAlphas(s.page, "255, 196, 0");
    }
    assert.ok(alphas.length > 0, "the editor shows attention highlights again");
    await s.page.screenshot({ path: join(OUT, "attention-after-reload-high-contrast.png") });
  });

  test("Change model… runs the same text under another model; 1 024 tokens: every head, the enlarged head and the strip", async () => {
    await openFile(s.page, "long.txt"); // 40 lines × 31 tokens: more than either context
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention"); // the panel's model, demo-attn-2l (n_ctx 256)
    await panel()
      .locator(".meta", { hasText: "long.txt, selection, lines 1–40 · 256 tokens (BOS prepended)" })
      .waitFor({ timeout: 60_000 });
    await panel().locator("button.link", { hasText: "Change model…" }).click();
    await answerPicks(s.page, "wide-ctx");
    await panel().locator("h1", { hasText: "Attention · wide-ctx" }).waitFor({ timeout: 60_000 });
    await panel()
      .locator(".meta", { hasText: "long.txt, selection, lines 1–40 · 1,024 tokens (BOS prepended)" })
      .waitFor({ timeout: 120_000 });
    assert.match(
      await panel().locator(".notice").innerText(),
      /\(n_ctx 1024\): its first 217 tokens were dropped; the run covers BOS and the last 1023/,
    );
    assert.equal(await panel().locator(".thumb").count(), 8, "2 layers × 4 heads");
    assert.equal(await panel().locator(".strip .tok").count(), 1024);
    await panel().locator(".thumb[data-layer='1'][data-head='2']").click();
    const big = panel().locator(".big canvas[data-head='L1H2']");
    await big.waitFor({ timeout: 30_000 });
    const geo = await big.evaluate((c) => ({ ...(c as HTMLCanvasElement).dataset }));
    assert.equal(Number(geo.t), 1024);
    // The last query's weight on BOS, read exactly from the enlarged pattern.
    const cell = Number(geo.cell),
      ox = Number(geo.originX),
      oy = Number(geo.originY);
    await big.hover({ position: { x: ox + 0.5 * cell, y: oy + 1023.5 * cell } });
    const tip = panel().locator(".cell-tip").filter({ hasText: "query 1023 " });
    await tip.waitFor();
    assert.equal(await tip.getAttribute("data-key"), "0");
    const w = Number(await tip.getAttribute("data-weight"));
    assert.ok(w > 0 && w <= 1, `a weight: ${w}`);
    // The last token of the strip: its top positions under L1H2 and the model's next tokens.
    await panel().locator(".strip .tok[data-i='1023']").hover();
    await panel().locator(".details h3", { hasText: "Position 1023:" }).waitFor();
    assert.ok((await panel().locator(".details .attended li").count()) > 0);
    await s.page.screenshot({ path: join(OUT, "attention-1024-tokens-high-contrast.png") });
  });

  test("Stop Attention Highlights: the highlights go, and the panel says it keeps the last run without following the editor", async () => {
    await runCommand(s.page, "Head Lens: Stop Attention Highlights");
    await panel().locator(".status", { hasText: "Stopped following the editor" }).waitFor({ timeout: 10_000 });
    assert.equal((await highlightAlphas(s.page, "255, 196, 0")).length, 0);
    assert.equal(await panel().locator(".thumb").count(), 8, "the last run stays on screen");
  });
});
