/**
 * README / issue screenshots (not a test): the same researcher scenario in the light, dark and
 * high-contrast themes, 1600×1000. `node out/test/e2e/screenshots.js <prefix>` writes
 * docs/screenshots/<prefix>-{light,dark,high-contrast}.png from the built .vsix ("after" adds
 * after-legend-light.png and after-hover-light.png).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { panelFrame, REPO, runCommand, startVSCode } from "./harness";
import { treeRowIn, vsix } from "./uxSupport";

const THEMES: [string, string, string][] = [
  ["light", "Default Light Modern", ".monaco-workbench.vs"],
  ["dark", "Dark Modern", ".monaco-workbench.vs-dark"],
  ["high-contrast", "Dark High Contrast", ".monaco-workbench.hc-black"],
];

async function main(): Promise<void> {
  const prefix = process.argv[2] ?? "after";
  const out = join(REPO, "docs", "screenshots");
  mkdirSync(out, { recursive: true });
  const s = await startVSCode(vsix(), { "notes.md": "# Notes\n\nThe function returns the value of the key.\n" });
  try {
    await s.page.setViewportSize({ width: 1600, height: 1000 });
    const panel = panelFrame(s.page);
    await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
    const row = (label: string) => treeRowIn(s.page, label);
    await row("demo-attn-2l").click();
    await row("Layer 1").click();
    // The page: layer 0, then L1H0.
    await runCommand(s.page, "Head Lens: Analyze Layer", "demo-attn-2l", "Layer 0");
    await panel.locator("#head-0-3:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H0");
    await panel.locator("#head-1-0:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    if (prefix === "after") await extras(s.page, out, prefix);
    for (const [name, theme, selector] of THEMES) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme); // it starts light
      await s.page.locator(selector).first().waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      const chip = panel.locator("#head-1-0 .chip").nth(3);
      await chip.scrollIntoViewIfNeeded();
      await chip.hover();
      await panel
        .locator(".tooltip")
        .waitFor({ timeout: 10_000 })
        .catch(() => undefined);
      await s.page.screenshot({ path: join(out, `${prefix}-${name}.png`) });
      console.log(`wrote ${prefix}-${name}.png`);
    }
  } finally {
    await s.close();
  }
}

/** What only the new UI has: the top of the panel (legend, head index), and the editor hover
 * naming its model and head (status bar too). Light theme. */
async function extras(page: Page, out: string, prefix: string): Promise<void> {
  const panel = panelFrame(page);
  await panel.locator("body").evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, `${prefix}-legend-light.png`) });
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").fill("notes.md");
  await page.waitForTimeout(300);
  await page.keyboard.press("Enter");
  const word = page.locator(".view-lines span", { hasText: "function" }).first();
  await word.waitFor();
  const box = (await word.boundingBox())!;
  const line = await word.innerText();
  await page.mouse.move(box.x + (line.indexOf("function") + 3) * (box.width / line.length), box.y + box.height / 2);
  await page.locator(".monaco-hover", { hasText: "Head Lens" }).waitFor({ timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `${prefix}-hover-light.png`) });
  await page.mouse.move(800, 900);
  await page.locator(".tabs-container .tab", { hasText: "Head Lens: demo-attn-2l" }).click();
  await panel.locator(".head-index a", { hasText: "L1H0" }).click();
  await page.waitForTimeout(500);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
