/**
 * Issue #21, item 6: bad input gets one calm, specific message in real VS Code (code-server
 * 4.100.3). "Nothing to run on" (an empty file, a binary file, no text editor) is one information
 * message naming the file and what to open — never an error, never also in the panel; a broken
 * vocab.json names its bad entry; Add Model Folder says what it added (or that it was listed).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomWeights, writeModelDir } from "../support/models";
import type { Frame } from "playwright-core";
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { axeSeriousViolations, frameWith, openFile, screenshotFailures, treeRowIn, typePath, vsix } from "./uxSupport";

const OUT = join(REPO, "test-output");
/** A small binary file: a header, then NUL bytes (VS Code shows its binary preview). its first NUL at offset 4. */
const BINARY = Buffer.concat([Buffer.from("HLB1"), Buffer.alloc(12), Buffer.from(" some text after the header\n")]);
/** The entry of demo-attn-1l's vocab.json that the broken copy gets wrong (an id past GPT-2's 50 257). */
const BAD_INDEX = 7,
  BAD_VALUE = 60000;

/** A text with a repeated passage (an induction head's stripe), for the attention panel's screenshots. */
const REPEAT = `${" the value of the system returns a number from the table".repeat(2)}\n`;

let s: Session;
let freshDir = "";

before(async () => {
  mkdirSync(OUT, { recursive: true });
  const models = mkdtempSync(join(tmpdir(), "head-lens-e2e-bad-"));
  // demo-attn-1l with one wrong entry in its vocab.json, listed in the settings.
  const badVocab = join(models, "bad-vocab");
  cpSync(join(REPO, "models", "demo-attn-1l"), badVocab, { recursive: true });
  const config = JSON.parse(readFileSync(join(badVocab, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(badVocab, "config.json"), JSON.stringify({ ...config, model_name: "bad-vocab" }));
  const vocab = JSON.parse(readFileSync(join(badVocab, "vocab.json"), "utf8")) as { gpt2Ids: number[] };
  vocab.gpt2Ids[BAD_INDEX] = BAD_VALUE;
  writeFileSync(join(badVocab, "vocab.json"), JSON.stringify(vocab));
  // A good model the user adds with Add Model Folder….
  freshDir = writeModelDir(join(models, "fresh-model"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 21, name: "fresh-model" }));
  s = await startVSCode(
    vsix(),
    { "empty.txt": "", "blob.bin": "", "words.txt": "one two three one two three\n", "repeat.txt": REPEAT },
    {
      "headLens.modelFolders": [badVocab],
    },
  );
  writeFileSync(join(s.workspace, "blob.bin"), BINARY);
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "bad-input-");

const toasts = () => s.page.locator(".notification-toast");
const attentionTabs = () => s.page.locator(".tabs-container .tab", { hasText: "Attention" });

/** Waits for the toast containing `text`; returns its text and whether it is an error, then closes it. */
async function toastWith(text: string | RegExp): Promise<{ text: string; error: boolean; info: boolean }> {
  const toast = toasts().filter({ hasText: text }).first();
  await toast.waitFor({ timeout: 30_000 });
  const out = {
    text: (await toast.innerText()).replace(/\s+/g, " "),
    error: (await toast.locator(".codicon-error").count()) > 0,
    info: (await toast.locator(".codicon-info").count()) > 0,
  };
  return out;
}

/** Closes what an earlier (failed) test may have left open: a quick pick, a dialog. */
async function closeLeftovers(): Promise<void> {
  for (let i = 0; i < 3 && (await s.page.locator(".quick-input-widget input").isVisible()); i++) await s.page.keyboard.press("Escape");
}

async function clearToasts(): Promise<void> {
  await runCommand(s.page, "Notifications: Clear All Notifications");
  await toasts()
    .first()
    .waitFor({ state: "detached", timeout: 10_000 })
    .catch(() => undefined);
}

/** Opens blob.bin through Quick Open: VS Code shows its binary preview, not a text editor. */
async function openBinaryPreview(): Promise<void> {
  await s.page.locator(".monaco-workbench .part.statusbar").click({ position: { x: 5, y: 5 } });
  await s.page.keyboard.press("Control+P");
  await s.page.locator(".quick-input-widget input").fill("blob.bin");
  const row = s.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: "blob.bin" }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
  await s.page.locator(".editor-group-container.active", { hasText: "binary" }).waitFor({ timeout: 10_000 });
}

describe("issue #21, item 6: messages on bad input", () => {
  test("an empty file: one information message naming the file (no error, no panel); the extension keeps working", async () => {
    await closeLeftovers();
    await openFile(s.page, "empty.txt");
    await runCommand(s.page, "Head Lens: Show Attention");
    const t = await toastWith("empty.txt");
    assert.match(t.text, /empty\.txt is empty/);
    assert.match(t.text, /open a file with text|type some text/i);
    assert.ok(t.info && !t.error, `an information message, not an error: ${t.text}`);
    assert.equal(await toasts().filter({ hasText: "Head Lens" }).count(), 1, "one message");
    assert.equal(await s.page.locator(".quick-input-widget input").isVisible(), false, "no model asked for: nothing to run on");
    assert.equal(await attentionTabs().count(), 0, "no panel opened just to repeat the message");
    await clearToasts();
    await openFile(s.page, "words.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention", "demo-attn-1l");
    await panelFrame(s.page).locator(".meta", { hasText: "words.txt, selection" }).waitFor({ timeout: 60_000 });
  });

  test("Ctrl+Alt+A in VS Code's binary preview says the file is binary and what to open", async () => {
    await closeLeftovers();
    await openBinaryPreview();
    await s.page.keyboard.press("Control+Alt+A");
    const t = await toastWith("blob.bin");
    assert.match(t.text, /blob\.bin looks binary \(a NUL byte at offset 4\)/);
    assert.match(t.text, /Head Lens runs on text: open a text file/);
    assert.ok(t.info && !t.error, `calm, not an error: ${t.text}`);
    await clearToasts();
  });

  test("a binary file opened as text, all selected: says it is binary and where, not 'select text'", async () => {
    await closeLeftovers();
    await openBinaryPreview();
    await s.page.locator(".editor-group-container.active").getByText("Open Anyway", { exact: true }).click();
    await answerPicks(s.page, "Text Editor");
    await s.page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    const t = await toastWith("blob.bin");
    assert.match(t.text, /blob\.bin looks binary \(a NUL character at line 1, column 5\)/);
    assert.doesNotMatch(t.text, /select text/);
    assert.ok(t.info && !t.error, `calm, not an error: ${t.text}`);
    assert.equal(await toasts().filter({ hasText: "Head Lens" }).count(), 1, "one message");
    await clearToasts();
  });

  test("a vocab.json with a wrong entry: the message names the file, the entry and why", async () => {
    await closeLeftovers();
    await runCommand(s.page, "Head Lens: Analyze Head", "bad-vocab");
    // The engine's check (inspectModelFolder) reads the vocabulary map: the model is listed as broken and refused at once.
    const t = await toastWith("vocab.json");
    assert.match(t.text, /vocab\.json/);
    assert.match(t.text, new RegExp(`gpt2Ids\\[${BAD_INDEX}\\] is ${BAD_VALUE}`));
    assert.match(t.text, /outside GPT-2's ids 0–50256\. Fix it/);
    assert.doesNotMatch(t.text, /must list/);
    await clearToasts();
  });

  test("Add Model Folder says what it added and where, offers to analyze it; adding it again says it is listed", async () => {
    await closeLeftovers();
    await runCommand(s.page, "View: Close All Editors"); // the heads panel it opens is then the only page
    await runCommand(s.page, "Head Lens: Add Model Folder…");
    await typePath(s.page, freshDir + "/");
    await s.page.locator(".quick-input-widget .monaco-button", { hasText: "Add Model Folder" }).click();
    const t = await toastWith("fresh-model");
    assert.match(t.text, /Added fresh-model \(1 layer × 2 heads\) to the Head Lens view's models/);
    assert.ok(t.info && !t.error, t.text);
    await toasts().filter({ hasText: "fresh-model" }).locator(".monaco-button", { hasText: "Analyze" }).click();
    await panelFrame(s.page).locator("#head-0-0:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    assert.equal(await treeRowIn(s.page, "fresh-model").count(), 1, "listed in the tree");
    await clearToasts();

    await runCommand(s.page, "Head Lens: Add Model Folder…");
    await typePath(s.page, freshDir + "/");
    await s.page.locator(".quick-input-widget .monaco-button", { hasText: "Add Model Folder" }).click();
    const again = await toastWith("fresh-model");
    assert.match(again.text, /fresh-model \(1 layer × 2 heads\) is already listed/);
    await clearToasts();
  });

  test("no text editor at all: Show Attention is one information message saying what to open", async () => {
    await closeLeftovers();
    await runCommand(s.page, "View: Close All Editors");
    await runCommand(s.page, "Head Lens: Show Attention");
    const t = await toastWith("no text editor");
    assert.ok(t.info && !t.error, t.text);
    await clearToasts();
  });
});

// VS Code's four kinds of theme (dark first: the issue's), the name in the theme picker and the workbench's class.
const THEMES: [string, string, string][] = [
  ["dark", "Dark Modern", ".monaco-workbench.vs-dark"],
  ["light", "Light Modern", ".monaco-workbench.vs"],
  ["hc-dark", "Dark High Contrast", ".monaco-workbench.hc-black"],
  ["hc-light", "Light High Contrast", ".monaco-workbench.hc-light"],
];

/** CIE L* of an sRGB colour, computed here (IEC 61966-2-1 transfer, D65). */
function lightness([r, g, b]: number[]): number {
  const lin = (v: number) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const Y = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return Y > (6 / 29) ** 3 ? 116 * Math.cbrt(Y) - 16 : (Y * 24389) / 27;
}
function contrastRatio(a: number[], b: number[]): number {
  const lum = (c: number[]) =>
    c
      .map((v) => ((v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
      .reduce((t, v, i) => t + [0.2126, 0.7152, 0.0722][i] * v, 0);
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const webviewWith = (selector: string, timeout?: number) => frameWith(s.page, selector, timeout);

/** Every shaded cell of the overview: its column, the value it shows, its background and text colours. */
async function shadedCells(f: Frame): Promise<{ column: string; value: number; bg: number[]; fg: number[] }[]> {
  return f.locator("button.cell.shaded, button.cell.hm").evaluateAll((cells) => {
    const rgb = (c: string) =>
      (/rgba?\(([^)]+)\)/.exec(c)?.[1] ?? "")
        .split(/[\s,/]+/)
        .filter(Boolean)
        .slice(0, 3)
        .map(Number);
    return cells.map((b) => {
      const table = b.closest("table")!,
        td = b.closest("td, th") as HTMLTableCellElement;
      const heatmap = b.closest(".heatmap")?.getAttribute("data-type");
      const column = heatmap ? `heatmap ${heatmap}` : (table.querySelectorAll("thead th")[td.cellIndex]?.textContent ?? "?");
      const st = getComputedStyle(b);
      return { column, value: parseFloat(b.textContent ?? ""), bg: rgb(st.backgroundColor), fg: rgb(st.color) };
    });
  });
}

describe("issue #21, item 7: one sequential colour scale with a lightness range in every theme", () => {
  test("overview: pattern scores 0.05 apart differ by ≥ 3 in CIE L*, every shaded cell's text ≥ 4.5:1; screenshots in four themes", async () => {
    await closeLeftovers();
    await runCommand(s.page, "View: Close All Editors");
    await runCommand(s.page, "Head Lens: Model Overview", "demo-attn-2l");
    const f = await webviewWith(".heatmap[data-type=k] button.best");
    for (const [name, theme, selector] of THEMES) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(selector).first().waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      const cells = await shadedCells(f);
      assert.ok(cells.length >= 8 * 4 + 3 * 16, `${name}: the metrics and three heatmaps are shaded (${cells.length})`);
      for (const c of cells) {
        const ratio = contrastRatio(c.fg, c.bg);
        assert.ok(ratio >= 4.5, `${name}: ${c.column} ${c.value}: text ${c.fg} on ${c.bg} is ${ratio.toFixed(2)}:1`);
      }
      // Pattern scores are shaded by their own value (0–1): any two 0.05 apart must read apart.
      const pattern = cells.filter((c) => /^(Induction|Previous token|Duplicate token|BOS)/.test(c.column));
      assert.ok(pattern.length >= 8 * 4, `${name}: pattern-score cells (${pattern.length})`);
      let pairs = 0;
      for (const a of pattern)
        for (const b of pattern)
          if (b.value - a.value >= 0.05) {
            pairs++;
            const dl = Math.abs(lightness(b.bg) - lightness(a.bg));
            assert.ok(dl >= 3, `${name}: ${a.column} ${a.value} vs ${b.column} ${b.value}: ΔL* ${dl.toFixed(2)}`);
          }
      assert.ok(pairs > 50, `${name}: pairs compared (${pairs})`);
      assert.deepEqual(await axeSeriousViolations(f), [], `${name}: axe-core`);
      await f.locator(".heatmaps").first().scrollIntoViewIfNeeded();
      await s.page.screenshot({ path: join(OUT, `colour-scale-overview-${name}.png`) });
    }
  });

  test("the attention panel's patterns on the same scale: screenshots in four themes", async () => {
    await closeLeftovers();
    await runCommand(s.page, "View: Close All Editors");
    await openFile(s.page, "repeat.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention");
    // The model is asked for unless one is current (the pick opens once the model list is ready).
    const panel = panelFrame(s.page);
    const ran = panel.locator(".meta", { hasText: "repeat.txt, selection" });
    const pick = s.page.locator(".quick-input-widget .monaco-list-row", { hasText: "demo-attn-2l" });
    for (let i = 0; i < 300 && !(await ran.isVisible().catch(() => false)); i++) {
      if (await pick.isVisible()) await answerPicks(s.page, "demo-attn-2l");
      await s.page.waitForTimeout(200);
    }
    await ran.waitFor({ timeout: 10_000 });
    await panel.locator(".thumb[data-layer='1'][data-head='0']").click();
    await panel.locator(".big canvas[data-head='L1H0']").waitFor({ timeout: 30_000 });
    for (const [name, theme, selector] of THEMES) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(selector).first().waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      // The enlarged pattern's masked (future) corner is weight 0: next to the page's background, not a block of colour.
      const corner = await panel.locator(".big canvas[data-head='L1H0']").evaluate((c) => {
        const canvas = c as HTMLCanvasElement;
        const px = canvas.getContext("2d")!.getImageData(canvas.width - 8, Math.round(canvas.height * 0.3), 1, 1).data;
        const bg = getComputedStyle(document.body).backgroundColor;
        return {
          px: [px[0], px[1], px[2]],
          bg: (/rgba?\(([^)]+)\)/.exec(bg)?.[1] ?? "")
            .split(/[\s,/]+/)
            .slice(0, 3)
            .map(Number),
        };
      });
      const dl = Math.abs(lightness(corner.px) - lightness(corner.bg));
      assert.ok(dl < 15, `${name}: weight 0 (${corner.px}) sits next to the background (${corner.bg}): ΔL* ${dl.toFixed(1)}`);
      await s.page.screenshot({ path: join(OUT, `colour-scale-attention-${name}.png`) });
      // The token strip coloured by L1H0's attention from a token of the second copy: every token stays readable.
      await panel.locator(".strip .tok[data-i='20']").hover();
      await panel.locator(".strip .tok.shaded").nth(20).waitFor({ timeout: 10_000 });
      const tokens = await panel.locator(".strip .tok.shaded").evaluateAll((els) =>
        els.map((e) => {
          const rgb = (c: string) =>
            (/rgba?\(([^)]+)\)/.exec(c)?.[1] ?? "")
              .split(/[\s,/]+/)
              .slice(0, 3)
              .map(Number);
          const st = getComputedStyle(e);
          return { text: e.textContent ?? "", fg: rgb(st.color), bg: rgb(st.backgroundColor) };
        }),
      );
      for (const t of tokens) {
        const ratio = contrastRatio(t.fg, t.bg);
        assert.ok(ratio >= 4.5, `${name}: token ${JSON.stringify(t.text)}: ${t.fg} on ${t.bg} is ${ratio.toFixed(2)}:1`);
      }
      await panel.locator(".strip").screenshot({ path: join(OUT, `colour-scale-strip-${name}.png`) });
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
  });
});
