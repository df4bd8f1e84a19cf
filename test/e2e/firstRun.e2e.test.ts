/**
 * Issue #21's first run in real VS Code (code-server 4.100.3): the "See an induction circuit"
 * walkthrough, opened as a newcomer would (Welcome: Open Walkthrough…). Every step's button is
 * clicked, each must do its step on the bundled demo-attn-2l — the tree's badges, the overview's
 * strongest K-composition, the path's induction signature, the attention panel on the bundled
 * sample text with L1H0 enlarged and attending to the token after the first copy — and the step
 * must show as done. The hub models are listed, ARENA's among them. Screenshots of the walkthrough
 * in the four themes go to test-output/ (docs/screenshots/ with HEAD_LENS_SCREENSHOTS=1).
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Locator } from "playwright-core";
import { REPO, runCommand, Session, startVSCode } from "./harness";
import { frameWith, screenshotFailures, treeRowIn, vsix } from "./uxSupport";

const OUT = join(REPO, "test-output");
const SHOTS = process.env.HEAD_LENS_SCREENSHOTS ? join(REPO, "docs", "screenshots") : OUT;
const PKG = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const WALKTHROUGH = PKG.contributes.walkthroughs[0];
/** What workbench.action.openWalkthrough takes: `${EXTENSION_ID}#${WALKTHROUGH.id}`. */
const EXTENSION_ID = `${PKG.publisher}.${PKG.name}`;
/** The sample the last step opens, as shipped (media/ goes into the .vsix). */
const SAMPLE = readFileSync(join(REPO, "media", "samples", "induction.txt"), "utf8");

let s: Session;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  mkdirSync(SHOTS, { recursive: true });
  s = await startVSCode(vsix(), { "notes.md": "# Notes\n" });
  await s.page.setViewportSize({ width: 1600, height: 1000 });
});
after(async () => {
  await s?.close();
});
screenshotFailures(() => s, OUT, "first-run-");

/** The walkthrough's step (VS Code's getting-started page: one button per step, data-step-id = extension#walkthrough#step). */
const step = (id: string): Locator => s.page.locator(`.getting-started-step[data-step-id="${EXTENSION_ID}#${WALKTHROUGH.id}#${id}"]`);

async function showWalkthrough(): Promise<void> {
  const tab = s.page.locator(".tabs-container .tab", { hasText: /^Walkthrough: Head Lens/ });
  if (await tab.count()) await tab.first().click();
  await s.page.locator(".gettingStartedContainer").first().waitFor({ state: "visible", timeout: 30_000 });
}

/** Expands the step, clicks its button (the description's command link) and waits until the step shows as done. */
async function doStep(id: string, button: string): Promise<void> {
  await showWalkthrough();
  const st = step(id);
  if ((await st.getAttribute("aria-expanded")) !== "true") await st.click();
  const link = st.locator(".monaco-button, a", { hasText: button }).first();
  await link.waitFor({ state: "visible", timeout: 15_000 });
  assert.equal(await st.locator("[role=checkbox][aria-checked=true]").count(), 0, `${id}: not done before its button`);
  await link.click();
  await s.page.waitForTimeout(500);
}

async function expectDone(id: string): Promise<void> {
  await showWalkthrough();
  await step(id).locator("[role=checkbox][aria-checked=true]").waitFor({ timeout: 15_000 });
}

/** Screenshot name, theme, the workbench's class in it. */
const THEMES: [string, string, string][] = [
  ["light", "Light Modern", "vs"],
  ["dark", "Dark Modern", "vs-dark"],
  ["high-contrast", "Dark High Contrast", "hc-black"],
  ["high-contrast-light", "Light High Contrast", "hc-light"],
];

describe("issue #21: the first-run walkthrough", () => {
  test("the hub models are listed before download, ARENA's 2-layer model among them", async () => {
    await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
    for (const name of ["attn-only-1l", "attn-only-4l", "arena-attn-only-2l"])
      await treeRowIn(s.page, name).filter({ hasText: "not downloaded" }).waitFor({ timeout: 60_000 });
    const label = await treeRowIn(s.page, "arena-attn-only-2l").getAttribute("aria-label");
    assert.match(label ?? "", /^arena-attn-only-2l, not downloaded, 2 layers, 12 heads, vocabulary 50,278$/);
    // Back to a newcomer's view: the Explorer, nothing of Head Lens open.
    await s.page.locator(".activitybar [aria-label^='Explorer']").first().click();
  });

  test("“See an induction circuit” opens from Welcome: Open Walkthrough…; its six steps are listed, none done", async () => {
    await runCommand(s.page, "Welcome: Open Walkthrough...", WALKTHROUGH.title);
    await showWalkthrough();
    assert.equal(await s.page.locator(`.getting-started-step[data-step-id^="${EXTENSION_ID}#${WALKTHROUGH.id}#"]`).count(), 6);
    for (const st of WALKTHROUGH.steps) {
      assert.equal(await step(st.id).count(), 1, `step ${st.id} listed`);
      assert.equal(await step(st.id).locator("[role=checkbox][aria-checked=true]").count(), 0, `step ${st.id} not done yet`);
    }
    await s.page.screenshot({ path: join(SHOTS, "walkthrough-light.png") });
  });

  test("step 1's button reveals the tree's badges: L1H0 induction, L0H3 prev-token", async () => {
    await doStep("badges", "Show the badges");
    const l1h0 = s.page.locator(`.monaco-list-row[aria-label^="L1H0, induction 0."]`);
    await l1h0.waitFor({ state: "visible", timeout: 90_000 });
    assert.match(await l1h0.locator(".label-description").innerText(), /^induction 0\.8\d$/);
    const l0h3 = s.page.locator(`.monaco-list-row[aria-label^="L0H3,"] .label-description`);
    await l0h3.waitFor({ state: "visible", timeout: 30_000 });
    assert.match(await l0h3.innerText(), /^prev-token 0\.5\d$/);
    await expectDone("badges");
  });

  test("step 2's button opens the overview; its top K-composition cell is L0H3 → L1H0", async () => {
    await doStep("overview", "Open the overview");
    const f = await frameWith(s.page, ".heatmap[data-type=k] button.best");
    assert.equal(
      await f.locator(".heatmap[data-type=k] button.best").getAttribute("aria-label"),
      "K-composition L0H3 → L1H0 0.174, the strongest, open the path",
    );
    assert.match(await f.locator(".heatmap[data-type=k] .strongest").innerText(), /L0H3 → L1H0 0\.174 · 2\.0× the random baseline/);
    await expectDone("overview");
  });

  test("step 3's button opens the path L0H3 → L1H0 in the heads panel with its induction signature", async () => {
    await doStep("path", "Open the path L0H3 → L1H0");
    const f = await frameWith(s.page, `#head-1-0[data-path="0:3:k"] .diagonal`);
    const sec = f.locator(`#head-1-0[data-path="0:3:k"]`);
    const median = Number((await sec.locator(".median-rank").innerText()).replace(/,/g, ""));
    assert.ok(median <= 100, `median rank ${median}: the induction signature (an unrelated circuit gives about 6 144)`);
    assert.match(await sec.locator(".diagonal").innerText(), /of 12,288/);
    assert.match(await sec.locator(".path-meaning").innerText(), /tokens that L0H3 moved into the key position/);
    await expectDone("path");
  });

  test("step 4's button opens the bundled sample and shows its attention, L1H0 enlarged, attending to the token after the first copy", async () => {
    await doStep("attention", "Show attention on the sample");
    const f = await frameWith(s.page, ".big canvas[data-head='L1H0']");
    await f.locator(".meta", { hasText: "all in" }).waitFor({ timeout: 60_000 });
    assert.match(await f.locator(".meta").innerText(), /induction\.txt, selection/);
    // The editor shows the sample, as shipped.
    await s.page.locator(".tabs-container .tab", { hasText: "induction.txt" }).first().waitFor();
    const tokens = await f.locator(".strip .tok").evaluateAll((els) => els.map((e) => e.textContent ?? ""));
    const north = tokens.flatMap((t, i) => (/north/.test(t) ? [i] : []));
    assert.equal(north.length, 2, `the repeated line's " north" twice: ${JSON.stringify(tokens)}`);
    assert.ok(SAMPLE.split("\n").filter((l) => l.includes("north")).length === 2);
    // From the second " north", L1H0 looks at what followed the first one (" road").
    const [first, second] = north;
    await f.locator(`.strip .tok[data-i='${second}']`).hover();
    await f.locator(".details .attended li").first().waitFor();
    const listed = await f
      .locator(".details .attended li")
      .evaluateAll((els) =>
        els.map((e) => ({ key: Number((e as HTMLElement).dataset.key), w: Number((e as HTMLElement).dataset.weight) })),
      );
    assert.equal(
      listed[0]?.key,
      first + 1,
      `L1H0's strongest key from the second " north" is the token after the first: ${JSON.stringify(listed)}`,
    );
    assert.match(tokens[first + 1], /road/);
    await expectDone("attention");
  });

  test("step 5's button opens the Why of the second “ wrote”: its key is the token after the first, favoured most by L0H3", async () => {
    await doStep("why", "Ask why");
    const f = await frameWith(s.page, ".why .why-top-key");
    const why = f.locator("section.why");
    const tokens = await f.locator(".strip .tok").evaluateAll((els) => els.map((e) => e.textContent ?? ""));
    const wrote = tokens.flatMap((t, i) => (/wrote/.test(t) ? [i] : []));
    assert.equal(wrote.length, 2, `the repeated line's " wrote" twice: ${JSON.stringify(tokens)}`);
    assert.equal(Number(await why.getAttribute("data-query")), wrote[1], "the query is the second copy's “ wrote”");
    assert.equal(Number(await why.getAttribute("data-key")), wrote[0] + 1, "its key is the token after the first “ wrote”");
    assert.equal(await why.locator(".why-top-key").getAttribute("data-component"), "L0H3");
    const top = await why.locator(".why-terms li").evaluateAll((els) => els.slice(0, 2).map((e) => (e as HTMLElement).dataset.col));
    assert.deepEqual(top, ["L0H3", "L0H3"], "the two terms that favour the key most come through L0H3 on the key side");
    await expectDone("why");
    // The step's own pictures (the walkthrough's media and the README's): the panel with this Why, in three themes.
    await s.page.locator(".tab", { hasText: "Head Lens: Attention" }).first().click();
    for (const [name, theme, cls] of THEMES.slice(0, 3)) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await (await frameWith(s.page, "section.why h2")).locator("section.why h2").evaluate((e) => e.scrollIntoView({ block: "start" }));
      await s.page.mouse.move(560, 720); // no tooltip in the picture
      await s.page.waitForTimeout(800);
      await s.page.screenshot({ path: join(SHOTS, `why-tour-${name}.png`) });
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
  });

  test("step 6's button zero-ablates L0H3 on the sample: L1H0's induction on the text goes to 0, shown against the baseline", async () => {
    await doStep("whatIf", "Remove L0H3");
    const f = await frameWith(s.page, "section.enlarged[data-baseline-induction]");
    const big = f.locator("section.enlarged:has(canvas[data-head='L1H0'])");
    let d: DOMStringMap = {};
    // The ablated run's pattern can be drawn before the baseline run arrives: wait for both.
    for (let i = 0; i < 300 && !(Number(d.induction) < 0.05 && d.baselineInduction); i++) {
      d = await big.evaluate((e) => ({ ...(e as HTMLElement).dataset }));
      await s.page.waitForTimeout(100);
    }
    assert.ok(Number(d.baselineInduction) > 0.2, `L1H0's induction on the sample without the ablation: ${d.baselineInduction}`);
    assert.ok(Number(d.induction) < 0.05, `with L0H3 removed: ${d.induction}`);
    await s.page.locator(".statusbar-item", { hasText: "Ablated: L0H3 zero" }).waitFor();
    await expectDone("whatIf");
    await s.page.locator(".statusbar-item", { hasText: "Ablated: L0H3 zero" }).click(); // one click restores the model
    await s.page.locator(".statusbar-item", { hasText: "Ablated:" }).waitFor({ state: "detached" });
  });

  test("the walkthrough shows every step done, in four themes (screenshots)", async () => {
    for (const [name, theme, cls] of THEMES) {
      await runCommand(s.page, "Preferences: Color Theme", theme);
      await s.page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      await showWalkthrough();
      for (const st of WALKTHROUGH.steps)
        assert.equal(await step(st.id).locator("[role=checkbox][aria-checked=true]").count(), 1, `${st.id} done (${theme})`);
      await step("attention").click();
      await s.page.waitForTimeout(1200);
      await s.page.screenshot({ path: join(SHOTS, `walkthrough-done-${name}.png`) });
    }
    await runCommand(s.page, "Preferences: Color Theme", "Light Modern");
  });
});
