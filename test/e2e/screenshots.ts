/**
 * README / issue screenshots (not a test): the same researcher scenario in the light, dark and
 * high-contrast themes, 1600×1000. `node out/test/e2e/screenshots.js <prefix>` writes
 * docs/screenshots/<prefix>-{light,dark,high-contrast}.png from the built .vsix.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { panelFrame, REPO, runCommand, startVSCode } from "./harness";

const THEMES: [string, string, string][] = [
  ["light", "Default Light Modern", ".monaco-workbench.vs"],
  ["dark", "Dark Modern", ".monaco-workbench.vs-dark"],
  ["high-contrast", "Dark High Contrast", ".monaco-workbench.hc-black"],
];

async function main(): Promise<void> {
  const prefix = process.argv[2] ?? "after";
  const out = join(REPO, "docs", "screenshots");
  mkdirSync(out, { recursive: true });
  const vsix = readdirSync(REPO).filter((n) => /^head-lens-linux-x64-.*\.vsix$/.test(n)).sort().pop()!;
  const s = await startVSCode(join(REPO, vsix), { "notes.md": "# Notes\n\nThe function returns the value of the key.\n" });
  try {
    await s.page.setViewportSize({ width: 1600, height: 1000 });
    const panel = panelFrame(s.page);
    await s.page.locator(".activitybar [aria-label='Head Lens']").first().click();
    const row = (label: string) => s.page.locator(`.monaco-list-row[aria-label="${label}"], .monaco-list-row[aria-label^="${label},"]`);
    await row("demo-attn-2l").click();
    await row("Layer 1").click();
    // The page: layer 0, then L1H0.
    await runCommand(s.page, "Head Lens: Analyze Layer", "demo-attn-2l", "Layer 0");
    await panel.locator("#head-0-3:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H0");
    await panel.locator("#head-1-0:not(.pending) .card").first().waitFor({ timeout: 120_000 });
    for (const [name, theme, selector] of THEMES) {
      if (name !== "light") await runCommand(s.page, "Preferences: Color Theme", theme); // it starts light
      await s.page.locator(selector).first().waitFor({ timeout: 30_000 });
      await s.page.waitForTimeout(1200);
      const chip = panel.locator("#head-1-0 .chip").nth(3);
      await chip.scrollIntoViewIfNeeded();
      await chip.hover();
      await panel.locator(".tooltip").waitFor({ timeout: 10_000 }).catch(() => undefined);
      await s.page.screenshot({ path: join(out, `${prefix}-${name}.png`) });
      console.log(`wrote ${prefix}-${name}.png`);
    }
  } finally {
    await s.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
