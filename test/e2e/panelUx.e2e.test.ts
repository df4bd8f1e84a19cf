/**
 * Issue #14, the panel and tree as a researcher uses them, in real VS Code (code-server 4.100.3):
 * each test asserts what a user sees or can do, and fails on the UI before the fix.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Frame } from "playwright-core";
import { randomWeights, writeModelDir } from "../support/models";
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import {
  axeSeriousViolations,
  hoverWord,
  innerPanelFrame,
  openFile,
  readOutputChannel,
  screenshotFailures,
  treeRowIn,
  typePath,
  vsix,
} from "./uxSupport";

const OUT = join(REPO, "test-output");
let s: Session;
let slowDir = "",
  brokenDir = "",
  garbageDir = "";

before(async () => {
  mkdirSync(OUT, { recursive: true });
  const models = mkdtempSync(join(tmpdir(), "head-lens-ux-models-"));
  // Slow enough that an analysis is seen running; truncated weights (listed in the settings); garbage weights (added by the user).
  slowDir = writeModelDir(
    join(models, "slow-random"),
    randomWeights({ V: 40000, D: 64, H: 8, E: 64, L: 1, seed: 5, name: "slow-random" }),
    "F16",
  );
  brokenDir = writeModelDir(
    join(models, "broken-model"),
    randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 6, name: "broken-model" }),
  );
  writeFileSync(join(brokenDir, "model.safetensors"), readFileSync(join(brokenDir, "model.safetensors")).subarray(0, 3000));
  garbageDir = writeModelDir(
    join(models, "garbage-model"),
    randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 7, name: "garbage-model" }),
  );
  writeFileSync(join(garbageDir, "model.safetensors"), Buffer.from("this is not a safetensors file at all, just garbage bytes"));
  s = await startVSCode(
    vsix(),
    { "notes.md": "# Notes\n\nThe function returns the value of the key.\n" },
    { "headLens.modelFolders": [slowDir, brokenDir] },
  );
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "ux-");

const treeRow = (label: string) => treeRowIn(s.page, label);
const panel = () => panelFrame(s.page);
/** The view's Cancel action, wherever VS Code puts the view's title actions. */
const cancelAction = () => s.page.locator(".part.sidebar .action-label[aria-label^='Cancel Analysis']");
const hoverStatus = () => s.page.locator(".statusbar-item", { hasText: "Head Lens:" }).filter({ hasText: "·" });
let frame: Frame;

async function showHeadLensView(): Promise<void> {
  if (!(await treeRow("demo-attn-2l").isVisible())) await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
  await treeRow("demo-attn-2l").waitFor();
}

/** The editor hover over "function" in notes.md, as text. */
const hoverFunction = () => hoverWord(s.page, "notes.md", "function", "Head Lens");

describe("issue #14: the panel and tree as a researcher uses them", () => {
  test("9: tree descriptions fit the default sidebar; Cancel shows only while an analysis runs", async () => {
    await showHeadLensView();
    await treeRow("slow-random").waitFor();
    assert.equal(await cancelAction().count(), 0, "no Cancel action while nothing runs");
    // Nothing in the tree is cut at the default sidebar width.
    const cut = await s.page
      .locator(".pane-body .monaco-list-row .monaco-icon-label-container")
      .evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    assert.deepEqual(cut, []);
    await runCommand(s.page, "Head Lens: Analyze Layer", "slow-random");
    await cancelAction().filter({ visible: true }).first().waitFor({ timeout: 30_000 });
    await cancelAction().filter({ visible: true }).first().click();
    await panel().locator(".status", { hasText: "Analysis cancelled." }).waitFor({ timeout: 30_000 });
    for (let i = 0; i < 50 && (await cancelAction().count()) > 0; i++) await s.page.waitForTimeout(200);
    assert.equal(await cancelAction().count(), 0, "the Cancel action goes away when nothing runs");
  });

  test("14: while heads stream in, a focused chip or field stays the same element with the focus, and the page does not move under the reader", async () => {
    await runCommand(s.page, "Head Lens: Analyze Layer", "slow-random");
    await panel().locator("#head-0-0:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    await s.page.waitForTimeout(300); // the panel scrolls to the layer's first head
    const f = await innerPanelFrame(s.page);
    const done = () => f.locator("section.head:not(.pending)").count();
    const nextHead = async () => {
      const n = await done();
      for (let i = 0; i < 600 && (await done()) === n; i++) await s.page.waitForTimeout(100);
      assert.ok((await done()) > n, "another head streamed in");
      await s.page.waitForTimeout(300);
    };
    type Probe = Window & { probe?: Element };
    // Reading L0H0 a little way in, with one of its chips focused: a head lands below.
    const reading = () =>
      f.evaluate(() => ({
        y: window.scrollY,
        top: document.querySelector("#head-0-0")!.getBoundingClientRect().top,
        focused: document.activeElement === (window as Probe).probe && (window as Probe).probe!.isConnected,
      }));
    await f.evaluate(() => {
      window.scrollBy(0, 120);
      const chip = document.querySelector<HTMLElement>("#head-0-0 .chip")!;
      chip.focus({ preventScroll: true });
      (window as Probe).probe = chip;
    });
    await s.page.waitForTimeout(300);
    const before = await reading();
    assert.ok(before.focused && (await panel().locator("section.head.pending").count()) > 1, "heads are still coming");
    await nextHead();
    assert.deepEqual(await reading(), before, "the chip keeps the focus; the page does not move");
    // Reading the last queued head; a value typed into Keys (its note grows the bar) and not applied; heads land above it.
    const read = await f.evaluate(() => {
      const sec = [...document.querySelectorAll<HTMLElement>("section.head.pending")].pop()!;
      window.scrollBy(0, sec.getBoundingClientRect().top - document.querySelector("header.top")!.getBoundingClientRect().bottom - 6);
      (window as Probe).probe = document.getElementById("nKeys")!;
      return sec.id;
    });
    await s.page.waitForTimeout(300);
    const offset = () =>
      f.evaluate(
        (id) => ({
          below:
            document.getElementById(id)!.getBoundingClientRect().top - document.querySelector("header.top")!.getBoundingClientRect().bottom,
          focused: document.activeElement === (window as Probe).probe && document.getElementById("nKeys") === (window as Probe).probe,
        }),
        read,
      );
    const first = await offset();
    const keys = panel().locator("#nKeys input");
    await keys.fill("3");
    await panel().locator(".unapplied", { hasText: "Not applied yet" }).waitFor();
    await s.page.waitForTimeout(300);
    const typed = await offset();
    assert.ok(typed.focused, "the Keys field has the focus");
    assert.ok(
      Math.abs(typed.below - first.below) <= 1,
      `typing in the bar leaves ${read} below it: ${first.below} px, then ${typed.below} px`,
    );
    await nextHead();
    const then = await offset();
    assert.ok(then.focused, "the Keys field is the same element and keeps the focus");
    assert.ok(Math.abs(then.below - first.below) <= 1, `${read} stays below the bar: ${first.below} px, then ${then.below} px`);
    assert.equal(await keys.inputValue(), "3", "the typed value stays");
    await keys.fill("5"); // nothing to apply any more
    for (let i = 0; i < 50 && (await panel().locator(".unapplied").innerText()) !== ""; i++) await s.page.waitForTimeout(100);
    assert.equal(await panel().locator(".unapplied").innerText(), "");
    await panel().locator("section.head.pending").first().waitFor({ state: "detached", timeout: 120_000 });
  });

  test("3, 5: after Analyze Layer the status bar names the hover's model and first head, and the hover names it too", async () => {
    await runCommand(s.page, "Head Lens: Analyze Layer", "demo-attn-2l", "Layer 0");
    await panel().locator("#head-0-3:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    // The layer's first head, not whichever finished last.
    await hoverStatus().filter({ hasText: "Head Lens: demo-attn-2l · L0H0" }).waitFor({ timeout: 10_000 });
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H0");
    await panel().locator("#head-1-0:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    await hoverStatus().filter({ hasText: "Head Lens: demo-attn-2l · L1H0" }).waitFor({ timeout: 10_000 });
    // One name everywhere: the panel's headings are the tree's.
    const titles = await panel().locator("section.head h2").allInnerTexts();
    assert.deepEqual(
      titles.map((t) => t.replace(/[▾▸]\s*/, "").trim()),
      ["L0H0", "L0H1", "L0H2", "L0H3", "L1H0"],
    );
    assert.doesNotMatch(await panel().locator("body").innerText(), /Head \d+:\d+/);
    const text = await hoverFunction();
    assert.match(text, /Head Lens: demo-attn-2l · L1H0/);
    assert.match(text, /In L1H0/);
  });

  test("5: the hover's context survives closing the panel and is changed from the status bar", async () => {
    await runCommand(s.page, "View: Close All Editors");
    await s.page.waitForTimeout(500);
    await hoverStatus().filter({ hasText: "demo-attn-2l · L1H0" }).waitFor();
    assert.match(await hoverFunction(), /Head Lens: demo-attn-2l · L1H0/);
    await hoverStatus().click();
    await answerPicks(s.page, "demo-attn-1l", "L0H2");
    await hoverStatus().filter({ hasText: "Head Lens: demo-attn-1l · L0H2" }).waitFor();
    const text = await hoverFunction();
    assert.match(text, /Head Lens: demo-attn-1l · L0H2/);
    assert.match(text, /In L0H2/);
    await runCommand(s.page, "View: Close All Editors");
  });

  test("6: tree clicks reopen the panel at the head, below the sticky bar; the index jumps; the bar names the current head; heads collapse", async () => {
    await showHeadLensView();
    if (!(await treeRow("L1H0").isVisible())) {
      if (!(await treeRow("Layer 1").isVisible())) await treeRow("demo-attn-2l").click();
      await treeRow("Layer 1").click();
    }
    await treeRow("L1H0").click();
    await panel().locator("#head-1-0:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    // An analyzed head's description (top key → top output) fits the default sidebar too.
    await s.page.locator(`.monaco-list-row[aria-label^="L1H0, analyzed"]`).waitFor();
    const cut = await s.page
      .locator(".pane-body .monaco-list-row .monaco-icon-label-container")
      .evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    assert.deepEqual(cut, []);
    frame = await innerPanelFrame(s.page);
    const titleBelowBar = async (id: string) =>
      frame.evaluate((sel) => {
        const bar = document.querySelector("header.top")!.getBoundingClientRect().bottom;
        const t = document.querySelector(`${sel} h2`)!.getBoundingClientRect();
        return { bar, top: t.top, ok: t.top >= bar - 1 && t.bottom < window.innerHeight };
      }, id);
    // Layer 0 above it, then a tree click must bring L1H0 (now at the bottom of a long page) into view.
    await runCommand(s.page, "Head Lens: Analyze Layer", "demo-attn-2l", "Layer 0");
    await panel().locator("#head-0-3:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    await s.page.waitForTimeout(300);
    const first = await titleBelowBar("#head-0-0");
    assert.ok(first.ok, `Analyze Layer scrolls to its first head: ${JSON.stringify(first)}`);
    await treeRow("L1H0").click();
    await s.page.waitForTimeout(800);
    let at = await titleBelowBar("#head-1-0");
    assert.ok(at.ok, `L1H0's title is visible below the sticky bar: ${JSON.stringify(at)}`);
    assert.equal(await panel().locator("#current-head").innerText(), "L1H0");
    await panel().locator(".head-index a", { hasText: "L0H2" }).click();
    await s.page.waitForTimeout(300);
    at = await titleBelowBar("#head-0-2");
    assert.ok(at.ok && at.top - at.bar < 40, `L0H2's title sits right under the bar: ${JSON.stringify(at)}`);
    assert.equal(await panel().locator("#current-head").innerText(), "L0H2");
    assert.equal(await panel().locator(".head-index a[aria-current]").innerText(), "L0H2");
    const toggle = panel().locator("#head-0-2 button.toggle");
    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    assert.equal(await panel().locator("#head-0-2 .cards").isVisible(), false);
    await toggle.click();
    assert.equal(await panel().locator("#head-0-2 .cards").isVisible(), true);
  });

  test("13: another tab in the panel's group and back: the panel comes back at the head being read", async () => {
    await panel().locator(".head-index a", { hasText: "L0H3" }).click();
    frame = await innerPanelFrame(s.page);
    const top = (f: Frame) =>
      f.evaluate(
        () =>
          document.querySelector("#head-0-3")!.getBoundingClientRect().top -
          document.querySelector("header.top")!.getBoundingClientRect().bottom,
      );
    /** The offset once it stops changing (layout and scrolling settle). */
    const settled = async (f: Frame) => {
      let last = await top(f);
      for (let i = 0; i < 20; i++) {
        await s.page.waitForTimeout(250);
        const now = await top(f);
        if (Math.abs(now - last) < 0.5) return now;
        last = now;
      }
      return last;
    };
    const before = await settled(frame);
    await s.page.waitForTimeout(1000); // where the reader is is saved 150 ms after scrolling stops
    assert.equal(await panel().locator("#current-head").innerText(), "L0H3");
    // notes.md opens in the panel's group: the panel's tab is hidden and its webview destroyed.
    await openFile(s.page, "notes.md");
    await s.page.locator(".tab.active", { hasText: "notes.md" }).waitFor();
    await s.page.locator(".tab", { hasText: "Head Lens: demo-attn-2l" }).click();
    await panel().locator("#head-0-3:not(.pending) .card").first().waitFor({ timeout: 30_000 });
    frame = await innerPanelFrame(s.page);
    const after = await settled(frame);
    assert.ok(Math.abs(after - before) <= 2, `L0H3 where it was below the bar: ${before} px before, ${after} px after`);
    assert.equal(await panel().locator("#current-head").innerText(), "L0H3");
  });

  test("7: a chip list is one tab stop with arrow keys inside; each head has a skip link; focus is visible", async () => {
    const stops = await frame.evaluate(
      () =>
        [...document.querySelectorAll<HTMLElement>("*")].filter(
          (e) => e.tabIndex >= 0 && !(e as HTMLButtonElement).disabled && e.getClientRects().length > 0,
        ).length,
    );
    const chips = await panel().locator(".chip").count();
    assert.ok(chips > 500, `${chips} chips`);
    assert.ok(stops < 150, `${stops} tab stops for ${chips} chips`);
    const list = panel().locator("#head-0-0 .chips").first();
    await list.locator(".chip").first().focus();
    await s.page.keyboard.press("ArrowRight");
    const focused = () => frame.evaluate(() => (document.activeElement as HTMLElement).dataset.nav ?? document.activeElement?.className);
    assert.match((await focused()) ?? "", /^q-0:0:0:1$/);
    const outline = await frame.evaluate(
      () => getComputedStyle(document.activeElement!).outlineStyle + " " + getComputedStyle(document.activeElement!).outlineWidth,
    );
    assert.equal(outline, "solid 2px");
    await s.page.keyboard.press("End");
    assert.match((await focused()) ?? "", /^q-0:0:0:19$/);
    await s.page.keyboard.press("Tab");
    assert.match((await focused()) ?? "", /^o-0:0:0:0$/, "Tab leaves the list for the next one");
    await panel().locator("#head-0-0 a.skip-link").focus();
    assert.ok(await panel().locator("#head-0-0 a.skip-link").isVisible(), "the skip link shows when focused");
    await s.page.keyboard.press("Enter");
    assert.equal(await focused(), "skip-0:1", "Enter skips to the next head");
  });

  test("1: query chips say how they are sorted, can be sorted by the shown score, and give the ranking score", async () => {
    const card = panel().locator("#head-1-0 .card").first();
    assert.match(await card.locator("h3").first().innerText(), /sorted by QK·p\^0\.1/);
    const tipOf = async (i: number) => {
      await card.locator(".chips").first().locator(".chip").nth(i).hover();
      return panel().locator(".tooltip").innerText();
    };
    assert.match(await tipOf(1), /ranking score\s+-?\d+\.\d{4} = QK · p\(q\)\^0\.1/);
    const scores = () =>
      card
        .locator(".chips")
        .first()
        .locator(".chip .score")
        .allInnerTexts()
        .then((t) => t.map(Number));
    const rule = await scores();
    assert.notDeepEqual(
      rule,
      [...rule].sort((a, b) => b - a),
      "the notebook's order is not the shown score's",
    );
    await panel().locator("#querySort").click();
    await panel().locator("#querySort [role=option]", { hasText: "QK (shown score)" }).click();
    await panel().locator("#head-1-0 .card h3", { hasText: "sorted by QK" }).first().waitFor();
    const byScore = await scores();
    assert.deepEqual(
      byScore,
      [...rule].sort((a, b) => b - a),
    );
    await panel().locator("#querySort").click();
    await panel().locator("#querySort [role=option]", { hasText: "QK·p^0.1 (notebook)" }).click();
  });

  test("2: one collapsible legend; every figure's tooltip has its formula; the output chip's tooltip says something true", async () => {
    const legend = panel().locator("details.legend");
    assert.equal(await legend.count(), 1);
    assert.match(await legend.innerText(), /importance[\s\S]*max QK · max OV · p\(key\)\^0\.1/);
    assert.match(await legend.innerText(), /colour/);
    await legend.locator("summary").click();
    assert.equal(await legend.getAttribute("open"), null, "the legend collapses");
    await legend.locator("summary").click();
    const titles = await panel()
      .locator("#head-1-0 .card")
      .first()
      .locator(".figures dt abbr")
      .evaluateAll((els) => els.map((e) => e.getAttribute("title")));
    assert.equal(titles.length, 3);
    for (const t of titles) assert.match(t ?? "", /=/, `a formula: ${t}`);
    await panel().locator("#head-1-0 .card").first().locator(".chips").nth(1).locator(".chip").first().hover();
    const tip = await panel().locator(".tooltip").innerText();
    assert.doesNotMatch(tip, /OV raw/);
    assert.match(tip, /OV \(shown\)\s+-?\d+\.\d{4} = OV\[k,o\] − mean over o of OV\[k,o\]/);
  });

  test("12: a size typed in the bar is marked as not applied until it is (Enter or Apply); a re-render keeps it", async () => {
    const cards = () => panel().locator("#head-1-0:not(.pending) .card");
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (let i = 0; i < 300 && !(await ok()); i++) await s.page.waitForTimeout(200);
      assert.ok(await ok(), what);
    };
    const applyDisabled = async () => (await panel().locator("#apply").getAttribute("disabled")) !== null;
    assert.equal(await cards().count(), 5);
    assert.ok(await applyDisabled(), "nothing to apply");
    const keys = panel().locator("#nKeys input"),
      note = panel().locator(".unapplied");
    await keys.fill("2");
    await note.filter({ hasText: "Not applied yet" }).waitFor();
    assert.match(await note.innerText(), /the cards show keys 5 · queries 20 · outputs 20 · prior bundled/);
    assert.ok(!(await applyDisabled()), "Apply is enabled");
    assert.equal(await cards().count(), 5, "nothing re-ran");
    for (const [theme, cls, name] of [
      ["Dark Modern", "vs-dark", "dark"],
      ["Dark High Contrast", "hc-black", "high-contrast"],
      ["Light Modern", "vs", "light"],
    ]) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(800);
      await s.page.screenshot({ path: join(OUT, `panel-unapplied-${name}.png`) });
    }
    // Another head lands (the panel re-renders): the typed value and its note stay.
    assert.equal(await panel().locator("#head-1-3").count(), 0, "L1H3 is not in the panel yet");
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H3");
    await panel().locator("#head-1-3:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    assert.equal(await keys.inputValue(), "2");
    assert.match(await note.innerText(), /Not applied yet/);
    await keys.fill("300");
    await note.filter({ hasText: "Keys: enter a whole number from 1 to 200" }).waitFor();
    await keys.fill("0");
    await note.filter({ hasText: "Keys: enter a whole number from 1 to 200" }).waitFor();
    assert.ok(await applyDisabled(), "nothing valid to apply");
    await keys.fill("2");
    await keys.press("Enter");
    await until("Enter applies: 2 key cards", async () => (await cards().count()) === 2);
    await until("the note goes once applied", async () => (await note.innerText()) === "");
    assert.ok(await applyDisabled());
    assert.equal(await keys.inputValue(), "2");
    await keys.fill("5");
    await panel().locator("#apply").click();
    await until("Apply applies: 5 key cards", async () => (await cards().count()) === 5);
  });

  test("8: chips are readable, and axe-core finds no serious or critical violation in light, dark and high-contrast themes", async () => {
    const sizes = await frame.evaluate(() => {
      const chip = document.querySelector(".chip")!;
      const tok = getComputedStyle(chip.querySelector(".tok")!),
        score = getComputedStyle(chip.querySelector(".score")!);
      return { tok: parseFloat(tok.fontSize), score: parseFloat(score.fontSize), opacity: Number(score.opacity) };
    });
    assert.ok(sizes.tok >= 13 && sizes.score >= 12 && sizes.opacity === 1, JSON.stringify(sizes));
    const glyphs = await frame.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>(".chip")]
        .filter((c) => /^[^\p{L}\p{N}\u2423\\]+$/u.test(c.querySelector(".tok")!.textContent!))
        .map((c) => getComputedStyle(c.querySelector(".tok")!).letterSpacing),
    );
    assert.ok(
      glyphs.length > 0 && glyphs.every((l) => l !== "normal" && parseFloat(l) > 0),
      `punctuation-only tokens are spaced: ${glyphs.slice(0, 5)}`,
    );
    for (const [theme, cls] of [
      ["Default Light Modern", "vs"],
      ["Dark Modern", "vs-dark"],
      ["Dark High Contrast", "hc-black"],
    ]) {
      if (theme !== "Default Light Modern") await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1500);
      frame = await innerPanelFrame(s.page);
      const bad = await axeSeriousViolations(frame);
      assert.deepEqual(bad, [], `${theme}: ${JSON.stringify(bad, null, 1)}`);
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
  });

  test("4: Export has no side effect on the panel, saves to the workspace folder, offers Open, lists queries and outputs separately", async () => {
    const before = await panel()
      .locator("section.head")
      .evaluateAll((els) => els.map((e) => e.id));
    await runCommand(s.page, "Head Lens: Export Report…", "Every head of demo-attn-2l (8)", "Markdown");
    const input = s.page.locator(".quick-input-widget input");
    await input.waitFor();
    await s.page.waitForTimeout(500);
    assert.ok((await input.inputValue()).startsWith(s.workspace), `the dialog starts in the workspace: ${await input.inputValue()}`);
    const file = join(s.workspace, "demo-attn-2l-heads.md");
    await typePath(s.page, file);
    await s.page.keyboard.press("Enter");
    const toast = s.page.locator(".notification-toast", { hasText: "exported 8 heads" });
    await toast.waitFor({ timeout: 120_000 });
    assert.ok(existsSync(file));
    assert.deepEqual(
      await panel()
        .locator("section.head")
        .evaluateAll((els) => els.map((e) => e.id)),
      before,
      "the panel still shows what it showed",
    );
    const md = readFileSync(file, "utf8");
    assert.match(md, /^## L1H3 \(`demo-attn-2l`\)$/m);
    assert.doesNotMatch(md, /\| rank \| query/);
    assert.match(md, /Queries that prefer key[^\n]*\n\n1\. `[^`]+` -?\d+\.\d\d\n2\. /);
    assert.match(md, /Effect on logits[^\n]*\n\n1\. `[^`]+` -?\d+\.\d\d\n/);
    // Hovered first: a toast the pointer is on does not start hiding under the click.
    await toast.hover();
    await toast.locator(".monaco-button", { hasText: "Open" }).click();
    await s.page.locator(".tabs-container .tab", { hasText: "demo-attn-2l-heads.md" }).waitFor({ timeout: 30_000 });
  });

  test("10: a broken model is refused with one message and marked in the tree; Open Model File never says 'opened' for it", async () => {
    await runCommand(s.page, "Head Lens: Add Model Folder…");
    await typePath(s.page, garbageDir + "/");
    await s.page.locator(".quick-input-widget .monaco-button", { hasText: "Add Model Folder" }).click();
    const toast = s.page.locator(".notification-toast", { hasText: "garbage-model was not added" });
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.innerText(), /model\.safetensors/);
    await s.page.waitForTimeout(1000);
    assert.equal(await s.page.locator(".notification-toast", { hasText: /added garbage-model/ }).count(), 0);
    await showHeadLensView();
    assert.equal(await treeRow("garbage-model").count(), 0, "not listed");
    const broken = treeRow("broken-model");
    assert.match(await broken.innerText(), /broken/);
    await broken.hover();
    const tip = s.page.locator(".monaco-hover, .workbench-hover", { hasText: "Cannot be loaded" });
    await tip.waitFor({ timeout: 10_000 });
    assert.match(await tip.innerText(), /model\.safetensors/);
    await s.page.mouse.move(800, 500);

    const tabs = await s.page.locator(".tabs-container .tab").count();
    await runCommand(s.page, "Head Lens: Open Model File…");
    await typePath(s.page, join(brokenDir, "model.safetensors"));
    await s.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: "model.safetensors" }).waitFor();
    await s.page.locator(".quick-input-widget .monaco-button", { hasText: "Open Model" }).click();
    await s.page.locator(".notification-toast", { hasText: "model.safetensors cannot be opened" }).waitFor({ timeout: 30_000 });
    await s.page.waitForTimeout(1000);
    assert.equal(await s.page.locator(".notification-toast", { hasText: /Head Lens: opened/ }).count(), 0);
    assert.equal(await s.page.locator(".tabs-container .tab").count(), tabs, "no panel opened for it");
  });

  test("11: the output channel logs each request with a timestamp, model, heads, provider, strategy and time", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-1l", "L0H1");
    await panel().locator("#head-0-1:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    const log = await readOutputChannel(s.page, "Head Lens: Show Output", /analyzed demo-attn-1l L0H1/);
    assert.match(log, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[info\] analyze demo-attn-1l L0H1 · providers cpu · strategy auto/);
    assert.match(
      log,
      /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[info\] analyzed demo-attn-1l L0H1 · provider cpu · strategy pruned \(asked: auto\) · \d+\.\d\d s/,
    );
  });
});
