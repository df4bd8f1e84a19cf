/**
 * Head Lens in real VS Code (code-server 4.100.3), installed from the built .vsix, driven like a
 * user through Chromium. Each test asserts what a user sees. Screenshots go to test-output/.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomWeights, writeModelDir } from "../support/models";
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { FakeHub, startFakeHub } from "../support/fakeHub";
import { hoverWord, newestLog, screenshotFailures, treeRowIn, vsix, reloadWindow } from "./uxSupport";

const OUT = join(REPO, "test-output");
let s: Session;
let bigDir = "",
  streamDir = "",
  brokenDir = "";
let hub: FakeHub;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // Models big enough that a layer takes seconds (one to cancel, one to watch stream in: heads
  // finished before a cancel are cached, so the streaming test needs a model nothing has touched),
  // and a folder whose weights are truncated.
  const models = mkdtempSync(join(tmpdir(), "head-lens-e2e-models-"));
  bigDir = writeModelDir(
    join(models, "big-random"),
    randomWeights({ V: 40000, D: 64, H: 8, E: 64, L: 1, seed: 5, name: "big-random" }),
    "F16",
  );
  streamDir = writeModelDir(
    join(models, "big-stream"),
    randomWeights({ V: 40000, D: 64, H: 4, E: 64, L: 1, seed: 7, name: "big-stream" }),
    "F16",
  );
  brokenDir = writeModelDir(
    join(models, "broken-model"),
    randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 6, name: "broken-model" }),
  );
  const st = join(brokenDir, "model.safetensors");
  writeFileSync(st, readFileSync(st).subarray(0, 3000));
  // The hub: a local server with the hub's URL layout, serving a tiny model under attn-only-1l's name.
  hub = await startFakeHub(join(REPO, "test", "fixtures", "hub"), "t", {
    "NeelNanda/Attn_Only_2L512W_C4_Code": "NeelNanda/Attn_Only_Tiny_C4_Code",
  });
  s = await startVSCode(
    vsix(),
    { "notes.md": "# Notes\n\nThe function returns the value of the key.\n" },
    { "headLens.modelFolders": [bigDir, streamDir, brokenDir] },
    { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(models, "hf-cache") },
  );
});
after(async () => {
  if (process.env.HEAD_LENS_E2E_KEEP) console.log(`e2e home kept: ${s?.home}`);
  await s?.close();
  await hub?.close();
});
screenshotFailures(() => s, OUT);

const treeRow = (label: string) => treeRowIn(s.page, label);
const panel = () => panelFrame(s.page);
/** Opens the Head Lens view (clicking its activity-bar icon again would close the side bar). */
async function showHeadLensView(): Promise<void> {
  if (!(await treeRow("demo-attn-2l").isVisible())) await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
  await treeRow("demo-attn-2l").waitFor();
}
const finished = () => panel().locator("section.head:not(.pending)");

/** The panel's computed colours beside the theme's own variables, each resolved by the browser. */
async function panelColours(): Promise<Record<string, string>> {
  return panel()
    .locator("body")
    .evaluate((body) => {
      const resolve = (cssVar: string) => {
        const probe = document.createElement("span");
        probe.style.setProperty("color", `var(${cssVar}, transparent)`); // CSSOM: the CSP forbids style attributes
        body.append(probe);
        const c = getComputedStyle(probe).color;
        probe.remove();
        return c;
      };
      const chip = document.querySelector(".chip:not(.same)"); // the key's own token is framed in the foreground colour
      return {
        themeClasses: body.className,
        page: getComputedStyle(body).backgroundColor,
        text: getComputedStyle(document.querySelector("h1")!).color,
        card: getComputedStyle(document.querySelector(".card")!).backgroundColor,
        chipBorder: chip ? getComputedStyle(chip).borderTopColor : "",
        themeBackground: resolve("--vscode-editor-background"),
        themeForeground: resolve("--vscode-foreground"),
        themeSideBar: resolve("--vscode-sideBar-background"),
        themeContrastBorder: resolve("--vscode-contrastBorder"),
      };
    });
}

describe("Head Lens in VS Code", () => {
  test("the Head Lens view lists the bundled models; model → layer → head expands", async () => {
    await showHeadLensView();
    await treeRow("demo-attn-1l").waitFor();
    await treeRow("big-random").waitFor();
    await treeRow("demo-attn-2l").click();
    await treeRow("Layer 1").waitFor();
    await treeRow("Layer 1").click();
    for (const h of ["L1H0", "L1H1", "L1H2", "L1H3"]) await treeRow(h).waitFor();
    assert.equal(await treeRow("Layer 0").count(), 1);
    assert.equal(await treeRow("L0H0").count(), 0, "layer 0 stays collapsed");
  });

  test("Analyze Head from the palette shows key cards whose tokens equal the CLI's --json", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H2");
    const section = panel().locator("#head-1-2:not(.pending)");
    await section.waitFor({ timeout: 120_000 });
    const cardTokens = await section.locator(".key-token").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.token));
    const firstQueries = await section
      .locator(".card")
      .first()
      .locator(".chips")
      .first()
      .locator(".chip")
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.token));
    // The CLI on the very model folder the installed extension analyzed.
    const installed = join(
      s.home,
      "extensions",
      readdirSync(join(s.home, "extensions")).find((d) => d.startsWith("head-lens."))!,
      "models",
      "demo-attn-2l",
    );
    const cli = spawnSync(
      process.execPath,
      [join(REPO, "dist", "cli.js"), "analyze", "--model", installed, "--layer", "1", "--head", "2", "--json"],
      { encoding: "utf8" },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const json = JSON.parse(cli.stdout);
    assert.deepEqual(
      cardTokens,
      json.keys.map((k: { token: string }) => k.token),
    );
    assert.deepEqual(
      firstQueries,
      json.keys[0].queries.map((q: { token: string }) => q.token),
    );
    // The tree now describes the analyzed head.
    await s.page.locator(`.monaco-list-row[aria-label^="L1H2, analyzed"]`).waitFor();
    await s.page.screenshot({ path: join(OUT, "panel-light.png") });
  });

  test("hovering a chip shows its token details", async () => {
    const chip = panel().locator("#head-1-2 .chip").nth(2);
    const id = await chip.getAttribute("data-id");
    await chip.hover();
    const tip = panel().locator(".tooltip");
    await tip.waitFor();
    const text = await tip.innerText();
    assert.match(text, new RegExp(`id\\s+${id}\\b`));
    assert.match(text, /prior p/);
    assert.match(text, /QK\[q,k\] raw/);
  });

  test("Cancel Analysis stops a running analysis", async () => {
    await runCommand(s.page, "Head Lens: Analyze Layer", "big-random");
    await panel().locator("section.head.pending").first().waitFor({ timeout: 60_000, state: "attached" });
    await runCommand(s.page, "Head Lens: Cancel Analysis");
    await panel().locator(".status", { hasText: "Analysis cancelled." }).waitFor({ timeout: 30_000 });
    assert.ok((await finished().count()) < 8, "not every head finished");
    assert.equal(await panel().locator("section.head.pending").count(), 0, "no head is left pending");
  });

  test("Analyze Layer streams heads in one by one with progress", async () => {
    await runCommand(s.page, "Head Lens: Analyze Layer", "big-stream");
    let sawPartial = false,
      sawProgress = false;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const [done, pending] = [await finished().count(), await panel().locator("section.head.pending").count()];
      if (pending > 0 && done > 0) sawPartial = true;
      if (await s.page.locator(".notification-toast", { hasText: "analyzing" }).count()) sawProgress = true;
      if (done === 4 && pending === 0) break;
      await s.page.waitForTimeout(100);
    }
    const ids = await finished().evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(ids, ["head-0-0", "head-0-1", "head-0-2", "head-0-3"]);
    assert.ok(sawPartial, "some heads were shown while others were still pending");
    assert.ok(sawProgress, "a progress notification was visible");
  });

  test("hovering a word in an editor shows its tokens", async () => {
    const text = await hoverWord(s.page, "notes.md", "function", "Head Lens");
    assert.match(text, /function/);
    assert.match(text, /prior p/);
    await s.page.screenshot({ path: join(OUT, "editor-hover.png") });
  });

  test("a broken model folder gives one error notification and the extension keeps working", async () => {
    // The engine's check marks it broken when it is listed: analyzing it is refused at once.
    await runCommand(s.page, "Head Lens: Analyze Head", "broken-model");
    const toast = s.page.locator(".notification-toast", { hasText: "broken-model cannot be analyzed" });
    await toast.waitFor({ timeout: 60_000 });
    assert.match(await toast.innerText(), /model\.safetensors/);
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-1l", "L0H1");
    await panel().locator("#head-0-1:not(.pending) .card").first().waitFor({ timeout: 60_000 });
  });

  test("a hub model is listed as not downloaded; analyzing it offers the download, then shows its head", async () => {
    await showHeadLensView();
    await treeRow("attn-only-2l").filter({ hasText: "not downloaded" }).waitFor();
    await runCommand(s.page, "Head Lens: Analyze Head", "attn-only-2l");
    const dialog = s.page.locator(".monaco-dialog-box");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /attn-only-2l is not downloaded yet\. Download NeelNanda\/Attn_Only_2L512W_C4_Code \(0 MB\)/);
    await dialog.locator(".monaco-button", { hasText: "Download" }).click();
    await answerPicks(s.page, "Layer 1", "L1H3");
    await panel().locator("#head-1-3:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    await treeRow("attn-only-2l").filter({ hasText: "ready" }).waitFor();
    assert.ok(hub.requests.some((r) => r.path === "/NeelNanda/Attn_Only_2L512W_C4_Code/resolve/main/model_final.pth"));
  });

  test("Open Model File… converts a TransformerLens .pth and analyzes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "head-lens-e2e-pth-"));
    const src = join(REPO, "test", "fixtures", "hub", "NeelNanda");
    cpSync(join(src, "Attn_Only_Tiny_C4_Code", "model_final.pth"), join(dir, "tiny_final.pth"));
    cpSync(join(src, "Attn_Only_Tiny_C4_Code", "config.json"), join(dir, "config.json"));
    cpSync(join(src, "gpt-neox-tokenizer-digits", "tokenizer.json"), join(dir, "tokenizer.json"));
    await runCommand(s.page, "Head Lens: Open Model File…");
    const input = s.page.locator(".quick-input-widget input");
    await input.waitFor();
    // The simple file dialog fills in its default folder asynchronously: type until the path sticks.
    for (let i = 0; i < 10 && (await input.inputValue()) !== join(dir, "tiny_final.pth"); i++) {
      await input.fill(join(dir, "tiny_final.pth"));
      await s.page.waitForTimeout(300);
    }
    await s.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: "tiny_final.pth" }).waitFor();
    await s.page.locator(".quick-input-widget .monaco-button", { hasText: "Open Model" }).click();
    await treeRow("tiny_final").waitFor({ timeout: 60_000 });
    await panel().locator("#head-0-0:not(.pending) .card").first().waitFor({ timeout: 60_000 });
  });

  test("the panel survives a window reload (restored from its saved state)", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 0", "L0H1");
    await panel().locator("#head-0-1:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    const before = await panel()
      .locator("#head-0-1 .key-token")
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.token));
    await reloadWindow(s.page);
    await panel().locator("#head-0-1 .card").first().waitFor({ timeout: 60_000 });
    const after = await panel()
      .locator("#head-0-1 .key-token")
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.token));
    assert.deepEqual(after, before);
    // Every heads panel of this window (one per model analyzed above) is restored when its tab is
    // shown, and re-runs its heads from the cache once: a restore refreshes its own panel, not
    // every panel restored before it again.
    const tabs = s.page.locator(".tab[aria-label^='Head Lens: ']");
    for (let i = 0; i < (await tabs.count()); i++) {
      await tabs.nth(i).click();
      await s.page.waitForTimeout(1500);
    }
    await tabs.filter({ hasText: "demo-attn-2l" }).first().click();
    const log = newestLog(join(s.home, "user-data", "logs"));
    const refreshes = new Map<string, number>();
    for (const m of log.matchAll(/\] (\S+) (?:(?:L\d+H\d+(?:, )?)+|\d+ heads)( via \S+ \([QKV]\))?: from the cache/g)) {
      const key = `${m[1]}${m[2] ?? ""}`; // a panel's direct heads, or one of its paths
      refreshes.set(key, (refreshes.get(key) ?? 0) + 1);
    }
    assert.ok(refreshes.size >= 3, `several panels were restored: ${[...refreshes.keys()]}\n${log}`);
    assert.deepEqual(
      [...refreshes].filter(([, n]) => n !== 1),
      [],
      `each restored panel re-ran its heads once:\n${log}`,
    );
  });

  test("the panel in the high-contrast theme takes the theme's colours (and a screenshot)", async () => {
    await runCommand(s.page, "Preferences: Color Theme", "Dark High Contrast");
    await s.page.locator(".monaco-workbench.hc-black").waitFor({ timeout: 30_000 });
    await panel().locator("section.head:not(.pending) .card").first().waitFor({ timeout: 30_000 });
    await s.page.waitForTimeout(800);
    // VS Code's Dark High Contrast: black editor, white text, its contrast border around chips.
    const c = await panelColours();
    assert.match(c.themeClasses, /\bvscode-high-contrast\b/);
    assert.deepEqual([c.page, c.text], ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]);
    assert.deepEqual([c.page, c.text, c.chipBorder], [c.themeBackground, c.themeForeground, c.themeContrastBorder]);
    await s.page.screenshot({ path: join(OUT, "panel-high-contrast.png") });
  });

  test("the panel in the dark theme (screenshot)", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H2");
    await panel().locator("#head-1-2:not(.pending)").waitFor({ timeout: 60_000 });
    await runCommand(s.page, "Preferences: Color Theme", "Dark Modern");
    await s.page.locator(".monaco-workbench.vs-dark").waitFor({ timeout: 30_000 });
    await s.page.waitForTimeout(1000);
    // VS Code's Dark Modern: #1f1f1f editor, #cccccc text, cards on the side bar's #181818.
    const c = await panelColours();
    assert.match(c.themeClasses, /\bvscode-dark\b/);
    assert.deepEqual([c.page, c.text, c.card], ["rgb(31, 31, 31)", "rgb(204, 204, 204)", "rgb(24, 24, 24)"]);
    assert.deepEqual([c.page, c.text, c.card], [c.themeBackground, c.themeForeground, c.themeSideBar]);
    await s.page.screenshot({ path: join(OUT, "panel-dark.png") });
  });

  test("changing the prior with the panel open re-runs the shown heads; no card shows a prior other than the one displayed", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H2");
    await panel().locator("#head-1-2:not(.pending) .card").first().waitFor({ timeout: 60_000 });
    assert.match(await panel().locator("#head-1-2 .head-title .meta").innerText(), /prior: bundled/);
    await runCommand(s.page, "Head Lens: Set Token Priors…", "uniform");
    // While the panel updates, every finished head agrees with the prior its dropdown displays.
    const deadline = Date.now() + 60_000;
    let seen = "";
    while (Date.now() < deadline) {
      const snapshot = await panel()
        .locator("body")
        .evaluate(() => ({
          shown: (document.getElementById("priors") as HTMLSelectElement | null)?.value ?? "",
          cards: [...document.querySelectorAll("section.head:not(.pending) .head-title .meta")].map((e) => e.textContent ?? ""),
        }));
      for (const c of snapshot.cards)
        assert.ok(c.includes(`prior: ${snapshot.shown}`), `card "${c}" under the displayed prior "${snapshot.shown}"`);
      seen = snapshot.cards.join("|");
      if (snapshot.shown === "uniform" && /prior: uniform/.test(seen)) break;
      await s.page.waitForTimeout(50);
    }
    assert.match(seen, /prior: uniform/);
    await runCommand(s.page, "Head Lens: Set Token Priors…", "bundled");
    await panel().locator("#head-1-2:not(.pending) .head-title .meta", { hasText: "prior: bundled" }).waitFor({ timeout: 60_000 });
  });
});
