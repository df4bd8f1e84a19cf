/**
 * "What if" in real VS Code (issue #23), on the bundled demo-attn-2l. Ablations: on `BOS r r` (r = 20
 * words, one token each, in a seeded random order) zero-ablating L0H3 (the previous-token head) from its
 * grid toggle, by the keyboard, takes L1H0's induction stripe away — read from L1H0's exact pattern as
 * the panel shows it under the ablation — and raises the loss of the text; a path ablation of L0H3 into
 * L1H0's keys only does nearly the same; Restore model (panel button, status-bar item) brings the
 * baseline back. Patching: clean `BOS r r[:-1]`, corrupted `BOS r' r[:-1]` (r' = 20 other words)
 * edited in the untitled copy the command opens; the L1H0 cell is the largest share of the gap. Every
 * expected number comes from an independent float64 forward pass from the raw weights
 * (test/support/ablationReference.ts), never from the panel. axe-core is clean; screenshots in three
 * themes go to test-output/whatif-*.png.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";
import { REPO, runCommand, Session, startVSCode } from "./harness";
import { axeSeriousViolations, frameWith, openFile, screenshotFailures, vsix } from "./uxSupport";
import { model, OTHER_WORDS, shuffled, WORDS } from "./demoWords";
import type { HeadAblation } from "../../src/core/ablations";
import { interventionRun } from "../support/ablationReference";

const OUT = join(REPO, "test-output");
const N = 20;
const R = shuffled(WORDS, 2026, N);
const R2 = shuffled(
  OTHER_WORDS.filter((w) => !R.includes(w)),
  7,
  N,
);
const words = (ws: string[]) => ws.map((w) => ` ${w}`).join("");
const TEXT = words(R) + words(R);
const IDS = [model.vocab.bos, ...model.vocab.encode(TEXT)];
const CLEAN = words(R) + words(R.slice(0, -1));
const CORRUPT = words(R2) + words(R.slice(0, -1));
const CLEAN_IDS = [model.vocab.bos, ...model.vocab.encode(CLEAN)];
const CORRUPT_IDS = [model.vocab.bos, ...model.vocab.encode(CORRUPT)];

/** L1H0's induction score from a [T][T] pattern: mean attention from each second-copy token to the token after its first occurrence. */
function inductionOf(pattern: number[][]): number {
  let sum = 0;
  for (let k = 0; k < N; k++) sum += pattern[1 + N + k][2 + k];
  return sum / N;
}
/** The text's loss: mean −log p of each actual next token. */
function lossOf(logProbs: Float64Array[], ids: number[]): number {
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) sum -= logProbs[t][ids[t + 1]];
  return sum / (ids.length - 1);
}
function reference(ablations: HeadAblation[]) {
  const r = interventionRun(model.weights, IDS, { ablations });
  return { induction: inductionOf(r.patterns[1][0]), loss: lossOf(r.logProbs, IDS) };
}

const near = (got: number, want: number, what: string, tol = 2e-3) =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: the panel shows ${got}, the reference ${want}`);

let s: Session;
let attention: Frame;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  assert.equal(IDS.length, 1 + 2 * N, "BOS r r: every word is one token");
  assert.equal(CLEAN_IDS.length, CORRUPT_IDS.length, "clean and corrupted texts have the same length");
  s = await startVSCode(
    vsix(),
    { "whatif.txt": TEXT, "patch.txt": CLEAN },
    { "headLens.attention.debounceMs": 200, "editor.wordWrap": "on" },
  );
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "whatif-");

/**
 * The enlarged head's induction score as the panel shows it (from its exact pattern; under an ablation
 * also the baseline's), once it equals `want` (a re-run takes a moment), or as it is after 60 s.
 */
async function enlarged(f: Frame, name: string, want: number, compared: boolean): Promise<{ induction: number; baseline: number }> {
  const big = f.locator(`section.enlarged:has(canvas[data-head='${name}'])`);
  await big.waitFor({ timeout: 60_000 });
  let got = { induction: NaN, baseline: NaN };
  for (let i = 0; i < 600; i++) {
    const d = await big.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
    got = { induction: Number(d.induction), baseline: d.baselineInduction ? Number(d.baselineInduction) : NaN };
    if (Math.abs(got.induction - want) <= 2e-3 && compared === !Number.isNaN(got.baseline)) break;
    await f.page().waitForTimeout(100);
  }
  return got;
}

async function loss(f: Frame): Promise<{ before: number; after: number; text: string }> {
  const l = f.locator(".ablation-bar .loss[data-after]");
  await l.waitFor({ timeout: 60_000 });
  const d = await l.evaluate((e) => ({
    before: (e as HTMLElement).dataset.before,
    after: (e as HTMLElement).dataset.after,
    text: e.textContent ?? "",
  }));
  return { before: Number(d.before), after: Number(d.after), text: d.text };
}

const tab = (page: Page, title: RegExp) => page.locator(".tab", { hasText: title });

describe("what if: ablations in the attention panel", () => {
  test("the reference agrees with the issue: zero-ablating L0H3 takes L1H0's induction stripe away and raises the loss", () => {
    const base = reference([]);
    const gone = reference([{ layer: 0, head: 3, kind: "zero" }]);
    assert.ok(base.induction > 0.3, `baseline induction ${base.induction}`);
    assert.ok(gone.induction < 0.05, `ablated induction ${gone.induction}`);
    assert.ok(gone.loss > base.loss + 1, `loss ${base.loss} → ${gone.loss}`);
  });

  test("L0H3's toggle (keyboard) ablates it: L1H0's stripe is gone, the loss line changes, the title, status bar and editor say so", async () => {
    await openFile(s.page, "whatif.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Show Attention", "demo-attn-2l");
    attention = await frameWith(s.page, `.meta:has-text("${1 + 2 * N} tokens")`);
    await attention.locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    await runCommand(s.page, "View: Close Primary Side Bar");
    await attention.locator(".thumb[data-layer='1'][data-head='0']").click();
    const base = reference([]);
    near((await enlarged(attention, "L1H0", base.induction, false)).induction, base.induction, "L1H0's induction before any ablation");

    const toggle = attention.locator(".thumb[data-layer='0'][data-head='3'] button.ablate");
    assert.equal(await toggle.getAttribute("aria-pressed"), "false");
    await toggle.focus();
    await s.page.keyboard.press("Enter"); // off → zero
    const want = reference([{ layer: 0, head: 3, kind: "zero" }]);
    const l = await loss(attention);
    near(l.before, base.loss, "loss before");
    near(l.after, want.loss, "loss after");
    assert.match(l.text, /→/);
    const shown = await enlarged(attention, "L1H0", want.induction, true);
    near(shown.induction, want.induction, "L1H0's induction under the ablation");
    assert.ok(shown.induction < 0.05, `the stripe is gone: ${shown.induction}`);
    near(shown.baseline, base.induction, "the baseline's L1H0 induction beside it");
    assert.equal(await toggle.getAttribute("aria-pressed"), "true");
    await attention.locator(".thumb.ablated[data-layer='0'][data-head='3']").waitFor();
    assert.equal(await attention.locator(".thumb.ablated").count(), 1, "one head is marked ablated");
    await tab(s.page, /Head Lens: Attention \(ablated\)/).waitFor({ timeout: 10_000 });
    await s.page.locator(".statusbar-item", { hasText: "Ablated: L0H3 zero" }).waitFor({ timeout: 10_000 });
    // The second copy's tokens were predicted worse: the strip colours them (their change in log-prob).
    const deltas = await attention.locator(".strip .tok").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.delta ?? ""));
    assert.ok(
      deltas.slice(N + 2).every((d) => / → /.test(d)),
      "every second-copy token says its log-prob before → after",
    );

    // The editor's highlights follow the ablated run, and say so.
    await s.page.locator(".editor-instance .view-lines").first().click();
    await s.page.keyboard.press("Control+End");
    let labels: string[] = [];
    for (let i = 0; i < 50 && !labels.some((t) => t.includes("(ablated: L0H3 zero)")); i++) {
      await s.page.waitForTimeout(100);
      labels = await s.page
        .locator(".editor-instance .view-lines")
        .first()
        .evaluate((root) =>
          [...root.querySelectorAll("span")].map((e) => getComputedStyle(e, "::after").content).filter((t) => t.includes("L1H0")),
        );
    }
    assert.ok(
      labels.some((t) => t.includes("(ablated: L0H3 zero)")),
      `the query label says the run is ablated: ${labels}`,
    );
  });

  test("the difference view draws ablated − baseline; the next-token lists show both runs", async () => {
    await attention.locator("label[for='view-difference']").click();
    await attention.locator("section.enlarged[data-view='difference']").waitFor();
    await attention.locator(".strip .tok[data-i='30']").hover();
    await attention.locator(".details .top-pair h4", { hasText: "Baseline" }).waitFor();
    await attention.locator(".details .baseline-next").waitFor();
    await s.page.screenshot({ path: join(OUT, "whatif-difference-light.png") });
    await attention.locator("label[for='view-ablated']").click();
  });

  test("a path ablation from the enlarged head's menu: L0H3 into L1H0's keys only takes the stripe away too", async () => {
    await attention.locator(".thumb[data-layer='0'][data-head='3']").click({ button: "right" }); // its menu
    await attention.locator("#ablate-into").waitFor();
    await attention.locator("#ablate-into").selectOption("1.0.k");
    const want = reference([{ layer: 0, head: 3, kind: "zero", into: { layer: 1, head: 0, input: "k" } }]);
    await attention.locator(".ablation-bar[data-ablations*='keys']").waitFor({ timeout: 30_000 });
    await attention.locator(".thumb[data-layer='1'][data-head='0']").click();
    let l = await loss(attention);
    for (let i = 0; i < 100 && Math.abs(l.after - want.loss) > 2e-3 * want.loss; i++) {
      await s.page.waitForTimeout(100);
      l = await loss(attention);
    }
    near(l.after, want.loss, "loss under the path ablation");
    near((await enlarged(attention, "L1H0", want.induction, true)).induction, want.induction, "L1H0's induction with L0H3 out of its keys");
  });

  test("Restore model (the panel's button) brings the baseline back; the status-bar item restores with one click", async () => {
    await attention.locator(".ablation-bar button.restore").click();
    await attention.locator(".ablation-bar[hidden]").waitFor({ state: "attached", timeout: 30_000 });
    near(
      (await enlarged(attention, "L1H0", reference([]).induction, false)).induction,
      reference([]).induction,
      "L1H0's induction, restored",
    );
    await tab(s.page, /^Head Lens: Attention$/).waitFor({ timeout: 10_000 });
    assert.equal(await s.page.locator(".statusbar-item", { hasText: "Ablated:" }).count(), 0, "no ablation in the status bar");
    // Ablate again (mean, two presses), then one click on the status-bar item.
    const toggle = attention.locator(".thumb[data-layer='0'][data-head='3'] button.ablate");
    await toggle.click();
    await s.page.locator(".statusbar-item", { hasText: "Ablated: L0H3 zero" }).waitFor({ timeout: 10_000 });
    await s.page.locator(".statusbar-item", { hasText: "Ablated: L0H3 zero" }).click();
    await attention.locator(".ablation-bar[hidden]").waitFor({ state: "attached", timeout: 30_000 });
    near(
      (await enlarged(attention, "L1H0", reference([]).induction, false)).induction,
      reference([]).induction,
      "L1H0's induction, restored from the status bar",
    );
  });

  test("axe-core is clean under an ablation; screenshots in three themes", async () => {
    await attention.locator(".thumb[data-layer='0'][data-head='3'] button.ablate").click();
    await loss(attention);
    const problems: string[] = [];
    for (const [name, theme, cls] of [
      ["light", "Light Modern", "vs"],
      ["dark", "Dark Modern", "vs-dark"],
      ["hc-dark", "Dark High Contrast", "hc-black"],
    ]) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      const bad = await axeSeriousViolations(attention);
      if (bad.length) problems.push(`${name}: axe: ${JSON.stringify(bad)}`);
      await attention.locator("body").evaluate(() => window.scrollTo(0, 0));
      await s.page.mouse.move(300, 700);
      await s.page.screenshot({ path: join(OUT, `whatif-ablated-${name}.png`) });
      await attention.locator("section.enlarged").evaluate((e) => e.scrollIntoView({ block: "start" }));
      await s.page.waitForTimeout(300);
      await s.page.screenshot({ path: join(OUT, `whatif-ablated-${name}-2.png`) });
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
    await attention.locator(".ablation-bar button.restore").click();
    await attention.locator(".ablation-bar[hidden]").waitFor({ state: "attached", timeout: 30_000 });
    assert.deepEqual(problems, []);
  });
});

describe("what if: patching from a corrupted copy", () => {
  /**
   * Each head's share of the gap from the float64 reference; the metric is logit[answer] − logit[wrong] at the
   * last position, answer = the word the repeat predicts (the clean run's own top prediction is a common token,
   * the corrupted run's too), wrong = the corrupted run's top prediction (the engine's default).
   */
  function referenceShares(): { shares: number[][]; l1h0Positions: number[]; answer: number; wrong: number; cleanTop: number } {
    const clean = interventionRun(model.weights, CLEAN_IDS);
    const corrupt = interventionRun(model.weights, CORRUPT_IDS);
    const last = CLEAN_IDS.length - 1;
    const argmax = (x: Float64Array) => x.reduce((b, v, i) => (v > x[b] ? i : b), 0);
    const answer = model.vocab.encode(` ${R[N - 1]}`)[0],
      wrong = argmax(corrupt.logits[last]);
    const metric = (lg: Float64Array[]) => lg[last][answer] - lg[last][wrong];
    const c = metric(clean.logits),
      k = metric(corrupt.logits);
    const shares = [0, 1].map((l) =>
      Array.from({ length: model.weights.config.n_heads }, (_, h) => {
        const p = interventionRun(model.weights, CORRUPT_IDS, { patch: { layer: l, head: h, from: clean.results, at: () => true } });
        return (metric(p.logits) - k) / (c - k);
      }),
    );
    // L1H0 patched at one position at a time (the page's per-position row).
    const l1h0Positions = CLEAN_IDS.map((_, t) => {
      const p = interventionRun(model.weights, CORRUPT_IDS, { patch: { layer: 1, head: 0, from: clean.results, at: (u) => u === t } });
      return (metric(p.logits) - k) / (c - k);
    });
    return { shares, l1h0Positions, answer, wrong, cleanTop: argmax(clean.logits[last]) };
  }

  test("the counts while editing, then the grid: L1H0 restores the largest share, every cell equals the reference", async () => {
    const want = referenceShares();
    assert.notEqual(want.answer, want.wrong);
    await openFile(s.page, "patch.txt");
    await s.page.keyboard.press("Control+A");
    await runCommand(s.page, "Head Lens: Compare with a Corrupted Copy…");
    const page = await frameWith(s.page, ".counts[data-clean]");
    // The copy is the active editor: make it longer first (the counts differ), then the corrupted text.
    await tab(s.page, /Untitled/).waitFor({ timeout: 30_000 });
    await s.page.locator(".editor-instance .view-lines").first().waitFor();
    await s.page.keyboard.press("Control+A");
    await s.page.keyboard.insertText(`${CORRUPT} extra words`);
    await page.locator(".differ", { hasText: "token counts differ" }).waitFor({ timeout: 30_000 });
    await s.page.keyboard.press("Control+A");
    await s.page.keyboard.insertText(CORRUPT);
    await page.locator(`.counts[data-corrupt='${CORRUPT_IDS.length}']`).waitFor({ timeout: 30_000 });
    await page.locator(".differ", { hasText: `${N} of ${CLEAN_IDS.length} tokens differ` }).waitFor({ timeout: 30_000 });
    // Both runs' top prediction is the same token (the reference says so): the page asks for the metric's tokens.
    assert.equal(want.cleanTop, want.wrong, "the clean and corrupted runs predict the same token by default");
    await page.locator(".status", { hasText: "Could not patch" }).waitFor({ timeout: 60_000 });
    await page.locator("#answer").fill(` ${R[N - 1]}`);
    await page.locator("#answer").press("Enter");
    await page.locator(".patch-grid button.cell").first().waitFor({ timeout: 60_000 });
    const cells = await page
      .locator(".patch-grid button.cell")
      .evaluateAll((els) => els.map((e) => ({ head: (e as HTMLElement).dataset.head!, share: Number((e as HTMLElement).dataset.share) })));
    assert.equal(cells.length, 2 * model.weights.config.n_heads);
    for (const c of cells) {
      const [l, h] = [Number(c.head[1]), Number(c.head[3])];
      near(c.share, want.shares[l][h], `${c.head}'s share`, 1e-3);
    }
    const best = cells.reduce((b, c) => (c.share > b.share ? c : b));
    assert.equal(best.head, "L1H0", `the largest share: ${JSON.stringify(cells)}`);
    // A cell by the keyboard: its per-position row and its pattern in both runs.
    await page.locator(".patch-grid button.cell[data-head='L0H0']").focus();
    await s.page.keyboard.press("ArrowDown");
    await s.page.keyboard.press("Enter");
    await page.locator(".detail h2", { hasText: "L1H0" }).waitFor({ timeout: 30_000 });
    await page.locator(".detail td[data-position]").first().waitFor({ timeout: 60_000 });
    const row = await page
      .locator(".detail td[data-position]")
      .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.share)));
    assert.equal(row.length, CLEAN_IDS.length);
    row.forEach((x, t) => near(x, want.l1h0Positions[t], `L1H0 patched at position ${t}`, 1e-3));
    assert.equal(await page.locator(".detail .pattern-pair canvas").count(), 2);
    const problems: string[] = [];
    for (const [name, theme, cls] of [
      ["light", "Light Modern", "vs"],
      ["dark", "Dark Modern", "vs-dark"],
      ["hc-dark", "Dark High Contrast", "hc-black"],
    ]) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      const bad = await axeSeriousViolations(page);
      if (bad.length) problems.push(`${name}: axe: ${JSON.stringify(bad)}`);
      await s.page.mouse.move(300, 700);
      await s.page.screenshot({ path: join(OUT, `whatif-patching-${name}.png`) });
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
    assert.deepEqual(problems, []);
  });

  test("the attention panel still works after patching (whose runs pushed its run out of the engine's kept runs)", async () => {
    await tab(s.page, /^Head Lens: Attention/).click();
    await attention.locator(".thumb[data-layer='0'][data-head='3']").click();
    await attention.locator(".big canvas[data-head='L0H3']").waitFor({ timeout: 30_000 });
  });
});
