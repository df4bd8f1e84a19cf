/**
 * Issue #12 in real VS Code (code-server 4.100.3): the tree's badges, the model overview and its
 * heatmaps opening a path's cards (with the induction signature), the paths in the heads panel,
 * and "which heads use this token" from the editor hover and the palette. axe-core runs in the
 * overview, the token table and a path section in the light, dark and high-contrast themes.
 * With HEAD_LENS_SCREENSHOTS=1 the README's screenshots go to docs/screenshots/ (else test-output/).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { answerPicks, REPO, runCommand, Session, startVSCode } from "./harness";
import { axeSeriousViolations, frameWith, hoverWord, screenshotFailures, treeRowIn, vsix } from "./uxSupport";
import { loadLocalModel } from "../../src/worker/loaders/localModel";
import { referenceMetrics } from "../support/metricsReference";

/** demo-attn-2l's L1H0 metrics from a float64 forward pass of its raw weights (the badge's figure). */
const demoReference = (() => {
  let ref: ReturnType<typeof referenceMetrics>["heads"][number] | undefined;
  return () => {
    if (!ref) {
      const m = loadLocalModel(join(REPO, "models", "demo-attn-2l"));
      ref = referenceMetrics(m.weights, m.vocab.bos).heads.find((h) => h.layer === 1 && h.head === 0)!;
    }
    return ref;
  };
})();

const OUT = join(REPO, "test-output");
const SHOTS = process.env.HEAD_LENS_SCREENSHOTS ? join(REPO, "docs", "screenshots") : OUT;
let s: Session;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  s = await startVSCode(vsix(), { "notes.md": "# Notes\n\nThe function returns the value of the key.\n" });
  await s.page.setViewportSize({ width: 1600, height: 1000 });
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "circuits-");

const treeRow = (label: string) => treeRowIn(s.page, label);

const OVERVIEW = "#metrics";
const TOKENS = "#token-heads";
const HEADS = "header.top #current-head";

async function showTab(title: string | RegExp): Promise<void> {
  await s.page.locator(".tabs-container .tab", { hasText: title }).first().click();
  await s.page.waitForTimeout(800);
}

describe("issue #12: the circuits, visible in VS Code", () => {
  test("expanding a model gives its heads badges: L1H0 induction, L0H3 prev-token; tooltips carry every figure; nothing is cut", async () => {
    await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
    await treeRow("demo-attn-2l").click();
    await treeRow("Layer 0").click();
    // Layer 0's heads in place first: the rows below move as it expands (a click racing that lands on L0H0).
    await s.page.locator(`.monaco-list-row[aria-label^="L0H3"]`).waitFor({ timeout: 60_000 });
    await treeRow("Layer 1").click();
    const l1h0 = s.page.locator(`.monaco-list-row[aria-label^="L1H0, induction 0."]`);
    await l1h0.waitFor({ timeout: 60_000 });
    assert.equal(await l1h0.locator(".label-description").innerText(), `induction ${demoReference().induction.toFixed(2)}`);
    assert.match(await s.page.locator(`.monaco-list-row[aria-label^="L0H3,"] .label-description`).innerText(), /^prev-token 0\.5\d$/);
    assert.match(
      (await s.page.locator(`.monaco-list-row[aria-label^="L0H0,"]`).getAttribute("aria-label")) ?? "",
      /^L0H0, not analyzed$/,
      "nothing notable: no badge",
    );
    assert.equal(await s.page.locator(`.monaco-list-row[aria-label^="L0H0,"] .label-description`).count(), 0);
    const cut = await s.page
      .locator(".pane-body .monaco-list-row .monaco-icon-label-container")
      .evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    assert.deepEqual(cut, []);
    await l1h0.hover();
    const tip = s.page.locator(".monaco-hover, .workbench-hover", { hasText: "strongest trait" });
    await tip.waitFor({ timeout: 15_000 });
    const text = await tip.innerText();
    for (const m of ["induction", "prev-token", "duplicate", "copying", "BOS"]) assert.match(text, new RegExp(`${m}\\s+-?\\d\\.\\d{3}`), m);
    assert.match(text, /Strongest compositions into L1H0: K L0H3 0\.17\d/);
    assert.match(text, /Elhage et al\. 2021/);
    await s.page.mouse.move(800, 500);
  });

  test("the hover's “Which heads use” link opens the token table: it streams, cancels, runs again, sorts, a row opens the head", async () => {
    // The hover's model and head (the status bar's item): demo-attn-2l.
    await runCommand(s.page, "Head Lens: Choose Hover Model and Head…", "demo-attn-2l", "L1H0");
    await hoverWord(s.page, "notes.md", "function", "Which heads use", 60_000);
    await s.page.locator(".monaco-hover a", { hasText: "Which heads use ' function'?" }).click();
    const f = await frameWith(s.page, TOKENS);
    assert.match(await f.locator("h1").innerText(), /Which heads use ␣function\?/);
    assert.match(await f.locator("header .meta").innerText(), /demo-attn-2l · token id \d+ · prior: bundled corpus/);
    // Cancellable while it runs (the first run computes every head's key importance), then run again.
    await f.locator("#cancel").click({ timeout: 10_000 });
    await f.locator(".status", { hasText: /Cancelled after \d of 8 heads/ }).waitFor({ timeout: 30_000 });
    await f.locator("#rerun").click();
    await f.locator(".status", { hasText: "All 8 heads." }).waitFor({ timeout: 120_000 });
    const rows = f.locator(`${TOKENS} tbody tr`);
    assert.equal(await rows.count(), 8);
    const column = async (i: number) =>
      await f.locator(`${TOKENS} tbody tr`).evaluateAll((trs, j) => trs.map((tr) => tr.children[j].textContent!.trim()), i);
    const num = (t: string) => Number(t.replace(/,/g, ""));
    const ranks = (await column(1)).map(num);
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
      "sorted by key rank by default",
    );
    assert.equal(await f.locator(`${TOKENS} th[aria-sort="ascending"]`).innerText(), "Key rank▲");
    // Every column sorts, both ways.
    const headers = f.locator(`${TOKENS} thead button.sort`);
    for (let i = 0; i < (await headers.count()); i++) {
      await f.locator(`${TOKENS} thead button.sort`).nth(i).click();
      const first = await f.locator(`${TOKENS} th[aria-sort]`).getAttribute("aria-sort");
      await f.locator(`${TOKENS} thead button.sort`).nth(i).click();
      const second = await f.locator(`${TOKENS} th[aria-sort]`).getAttribute("aria-sort");
      assert.notEqual(first, second, `column ${i} sorts both ways`);
    }
    await f.locator(`${TOKENS} thead button.sort`, { hasText: "Importance" }).click();
    assert.equal(await f.locator(`${TOKENS} th[aria-sort]`).getAttribute("aria-sort"), "descending");
    const imp = (await column(2)).map(num);
    assert.deepEqual(
      imp,
      [...imp].sort((a, b) => b - a),
    );
    // The table is one tab stop; arrow keys move inside it; Enter opens the row's head.
    assert.equal(await f.locator(`${TOKENS} [data-row][tabindex="0"]`).count(), 1);
    const top = (await column(0))[0];
    await f.locator(`${TOKENS} tbody tr`).first().locator("button.cell").first().focus();
    await s.page.keyboard.press("ArrowRight");
    assert.equal(await f.evaluate(() => document.activeElement?.getAttribute("data-col")), "1");
    await s.page.keyboard.press("Enter");
    const [layer, head] = /^L(\d+)H(\d+)$/.exec(top)!.slice(1);
    const panel = await frameWith(s.page, `#head-${layer}-${head}:not(.pending) .card`);
    assert.ok((await panel.locator(`#head-${layer}-${head} .card`).count()) > 0, `${top} opened in the heads panel`);
  });

  test("the palette command takes a token: typed text must be one token", async () => {
    await runCommand(s.page, "Head Lens: Which Heads Use a Token…", "demo-attn-2l");
    const input = s.page.locator(".quick-input-widget input");
    await input.waitFor();
    if (await s.page.locator(".quick-input-list .label-name", { hasText: "Type a token…" }).count())
      await answerPicks(s.page, "Type a token…");
    await input.fill("the value");
    await s.page.locator(".quick-input-message", { hasText: /is 2 tokens/ }).waitFor({ timeout: 30_000 });
    await input.fill(" the");
    await s.page.waitForTimeout(1500);
    await s.page.keyboard.press("Enter");
    const f = await frameWith(s.page, `${TOKENS} caption`);
    await f.locator("h1", { hasText: "␣the" }).waitFor({ timeout: 30_000 });
    await f.locator(".status", { hasText: "All 8 heads." }).waitFor({ timeout: 120_000 });
    // The sort chosen for the last token is kept; back to the token's rank among each head's keys.
    if ((await f.locator(`${TOKENS} th[aria-sort]`).innerText()) !== "Key rank▲")
      await f.locator(`${TOKENS} thead button.sort`, { hasText: "Key rank" }).click();
    await f.locator(`${TOKENS} th[aria-sort="ascending"]`, { hasText: "Key rank" }).waitFor();
    const ranks = await f
      .locator(`${TOKENS} tbody tr`)
      .evaluateAll((trs) => trs.map((tr) => Number(tr.children[1].textContent!.replace(/,/g, ""))));
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
  });

  test("the overview opens from the palette; its top K-composition cell is L0H3 → L1H0 and opens the path's cards with the induction signature", async () => {
    await runCommand(s.page, "Head Lens: Model Overview", "demo-attn-2l");
    const f = await frameWith(s.page, ".heatmap[data-type=k] button.best");
    const best = f.locator(".heatmap[data-type=k] button.best");
    assert.equal(await best.getAttribute("aria-label"), "K-composition L0H3 → L1H0 0.174, the strongest, open the path");
    // Against chance: random matrices of d_model 128 score ≈ 1/√128 = 0.088, and L0H3 → L1H0 is twice that.
    assert.match(await f.locator(".baseline").innerText(), /about 1\/√d_model = 0\.088 \(d_model 128\)/);
    assert.match(await f.locator(".heatmap[data-type=k] .strongest").innerText(), /L0H3 → L1H0 0\.174 · 2\.0× the random baseline/);
    // The metrics table: every head, its badge, every metric explained with its source.
    assert.equal(await f.locator(`${OVERVIEW} tbody tr`).count(), 8);
    const l1h0 = f.locator(`${OVERVIEW} tbody tr`, { has: f.locator("th", { hasText: "L1H0" }) });
    assert.equal(await l1h0.locator("td").first().innerText(), `induction ${demoReference().induction.toFixed(2)}`);
    const explain = await f.locator(".explain").innerText();
    for (const m of ["Induction", "Previous token", "Duplicate token", "Copying", "BOS", "Composition", "Badge"])
      assert.match(explain, new RegExp(`^${m}\\s`, "m"), m);
    assert.match(explain, /Elhage et al\. 2021/);
    assert.match(explain, /Olsson et al\. 2022/);
    // Each heatmap is one tab stop; cells are buttons named in words; Enter opens the path.
    assert.equal(await f.locator("[data-grid=hm-k] [tabindex='0']").count(), 1);
    await best.focus();
    await s.page.keyboard.press("Enter");
    const panel = await frameWith(s.page, `#head-1-0[data-path="0:3:k"] .diagonal`);
    const sec = panel.locator("#head-1-0");
    const median = Number((await sec.locator(".median-rank").innerText()).replace(/,/g, ""));
    assert.ok(median <= 100, `median rank ${median}`);
    assert.match(await sec.locator(".diagonal").innerText(), /of 12,288/);
    assert.match(await sec.locator(".path-meaning").innerText(), /tokens that L0H3 moved into the key position/);
    assert.match(await sec.locator(".key-role").first().innerText(), /a token L0H3 moved here/);
    assert.equal(await sec.locator(".card").count(), 5);
    assert.equal(await sec.locator(".card h3", { hasText: "Effect on logits" }).count(), 0, "a k path has no OV side");
    // The path bar: Direct, then the strongest paths; this one pressed; all of them in the list.
    const opts = sec.locator(".pathbar .path-opt");
    assert.deepEqual((await opts.allInnerTexts()).slice(0, 2), ["Direct", "via L0H3 · K 0.174"]);
    assert.equal(await opts.count(), 4);
    assert.equal(await sec.locator(".pathbar .path-opt[aria-pressed=true]").innerText(), "via L0H3 · K 0.174");
    assert.equal(await sec.locator("vscode-single-select vscode-option").count(), 13);
    // Chips whose token is the key itself are marked (the induction pattern: query = key).
    const same = sec.locator(".chip.same");
    assert.ok((await same.count()) > 0, "a query equal to its key is marked");
    assert.match(await same.first().innerText(), /=key\s*\(the key itself\)/);
  });

  test("Direct in the path bar shows the direct path: own-output rank (copying) and suppressed logits beside the positive ones", async () => {
    const panel = await frameWith(s.page, `#head-1-0 .pathbar`);
    await panel.locator("#head-1-0 .pathbar .path-opt", { hasText: "Direct" }).click();
    await panel.locator("#head-1-0:not([data-path]):not(.pending) .card").first().waitFor({ timeout: 120_000 });
    const card = panel.locator("#head-1-0 .card").first();
    assert.match(await card.locator(".self-rank").innerText(), /own-output rank \d/);
    assert.equal(await card.locator("h3", { hasText: "Suppressed" }).count(), 1);
    const sup = (await card.locator(".chips").nth(2).locator(".score").allInnerTexts()).map(Number);
    assert.equal(sup.length, 5);
    assert.ok(sup.every((x) => x < 0) && sup.every((x, i) => i === 0 || sup[i - 1] <= x), `most negative first: ${sup}`);
    // Keyboard: the path bar is one tab stop with arrow keys.
    await panel.locator("#head-1-0 .pathbar .path-opt").first().focus();
    await s.page.keyboard.press("ArrowRight");
    assert.match(await panel.evaluate(() => document.activeElement?.textContent ?? ""), /^via L0H3 · K/);
    await s.page.keyboard.press("Enter");
    await panel.locator(`#head-1-0[data-path="0:3:k"] .diagonal`).waitFor({ timeout: 30_000 });
  });

  test("axe-core: no serious or critical violation in the overview, the token table and a path section, in three themes (screenshots)", async () => {
    const themes: [string, string, string][] = [
      ["light", "Default Light Modern", "vs"],
      ["dark", "Dark Modern", "vs-dark"],
      ["high-contrast", "Dark High Contrast", "hc-black"],
    ];
    for (const [name, theme, cls] of themes) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      for (const [tab, selector, file] of [
        [/^Overview: demo-attn-2l/, OVERVIEW, "overview"],
        [/^Which heads use/, TOKENS, "tokens"],
        [/^Head Lens: demo-attn-2l/, HEADS, "path"],
      ] as const) {
        await showTab(tab);
        const f = await frameWith(s.page, selector);
        if (file === "path") {
          await f.locator(`#head-1-0[data-path="0:3:k"] .card`).first().waitFor({ timeout: 30_000 });
          await f.locator(".head-index a", { hasText: "L1H0" }).click();
        }
        if (file === "overview") await f.locator(".heatmap[data-type=k] button.best").waitFor({ timeout: 30_000 });
        await s.page.waitForTimeout(600);
        const bad = await axeSeriousViolations(f);
        assert.deepEqual(bad, [], `${file}, ${theme}: ${JSON.stringify(bad, null, 1)}`);
        await s.page.screenshot({ path: join(SHOTS, `circuits-${file}-${name}.png`) });
      }
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
  });
});
