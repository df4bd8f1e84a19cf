/** Helpers for the panel-and-tree end-to-end tests: the panel's frame, axe-core, dialogs, the log. */
import { afterEach } from "node:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Frame, Locator, Page } from "playwright-core";
import { REPO, runCommand, Session } from "./harness";

export function vsix(): string {
  const f = readdirSync(REPO)
    .filter((n) => /^head-lens-linux-x64-.*\.vsix$/.test(n))
    .sort()
    .pop();
  if (!f) throw new Error("no head-lens-linux-x64-*.vsix: run `npm run package` first");
  return join(REPO, f);
}

/** A Head Lens tree row by its accessible label ("demo-attn-2l, 2 layers …", "Layer 1", "L1H2, …"). */
export function treeRowIn(page: Page, label: string): Locator {
  return page.locator(`.monaco-list-row[aria-label="${label}"], .monaco-list-row[aria-label^="${label},"]`);
}

/** Keeps what the user would have seen when a test fails: OUT/PREFIXfailure-N.png. */
export function screenshotFailures(session: () => Session | undefined, out: string, prefix = ""): void {
  let shot = 0;
  afterEach(async (t) => {
    const s = session();
    if (s && (t as unknown as { passed?: boolean }).passed === false)
      await s.page.screenshot({ path: join(out, `${prefix}failure-${++shot}.png`) }).catch(() => undefined);
  });
}

/** The panel's document as a playwright Frame (VS Code nests it in two iframes). */
export async function innerPanelFrame(page: Page): Promise<Frame> {
  const outer = await (await page.locator("iframe.webview.ready").first().elementHandle())!.contentFrame();
  const inner = await (await outer!.locator("iframe#active-frame").elementHandle())!.contentFrame();
  await inner!.locator("#app").waitFor();
  return inner!;
}

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core inside the panel. The panel's CSP allows only its own nonce'd script, so the
 * source goes in through the DevTools protocol (frame.evaluate), which the CSP does not govern.
 */
export async function axeSeriousViolations(frame: Frame): Promise<AxeFinding[]> {
  const source = readFileSync(join(REPO, "node_modules", "axe-core", "axe.min.js"), "utf8");
  await frame.evaluate(`${source}\n;void 0`);
  return frame.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: Document,
            opts: object,
          ): Promise<{
            violations: { id: string; impact: string; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ""}`),
      }));
  });
}

/** Types a path into VS Code's simple file dialog (it fills its default asynchronously: retype until it sticks). */
export async function typePath(page: Page, path: string): Promise<void> {
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  for (let i = 0; i < 10 && (await input.inputValue()) !== path; i++) {
    await input.fill(path);
    await page.waitForTimeout(300);
  }
}

/** Shows an output channel (through its command) and returns its visible text once it matches. */
export async function readOutputChannel(page: Page, showCommand: string, until: RegExp): Promise<string> {
  await runCommand(page, showCommand);
  const lines = page.locator(".part.panel .monaco-editor .view-lines");
  await lines.first().waitFor({ timeout: 30_000 });
  let text = "";
  for (let i = 0; i < 50; i++) {
    // Wrapped lines are separate elements: join them without separators, ordered by their position.
    text = await lines.first().evaluate((e) =>
      [...e.querySelectorAll<HTMLElement>(".view-line")]
        .sort((a, b) => a.offsetTop - b.offsetTop)
        .map((l) => l.textContent ?? "")
        .join("")
        .replace(/\u00a0/g, " "),
    );
    if (until.test(text)) break;
    await page.waitForTimeout(200);
  }
  return text;
}

/** Opens `file`, hovers `word` in it and returns the text of the editor hover that contains `hoverText`. */
export async function hoverWord(page: Page, file: string, word: string, hoverText: string, timeout = 30_000): Promise<string> {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").fill(file);
  await page.waitForTimeout(300);
  await page.keyboard.press("Enter");
  const span = page.locator(".view-lines span", { hasText: word }).first();
  await span.waitFor();
  const box = (await span.boundingBox())!;
  const line = await span.innerText();
  await page.mouse.move(box.x + 5, box.y - 40); // away first, so that an earlier hover closes
  await page.waitForTimeout(200);
  await page.mouse.move(box.x + (line.indexOf(word) + 3) * (box.width / line.length), box.y + box.height / 2);
  const hover = page.locator(".monaco-hover", { hasText: hoverText });
  await hover.waitFor({ timeout });
  return hover.innerText();
}

/** Opens a workspace file through Quick Open (clicking its row: Enter can race the file search). */
export async function openFile(page: Page, name: string): Promise<void> {
  const tab = page.locator(`.tab[aria-label^="${name}"]`).first();
  for (let attempt = 0; !(await tab.isVisible()); attempt++) {
    await page.locator(".monaco-workbench .part.statusbar").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("Control+P");
    await page.locator(".quick-input-widget input").fill(name);
    const row = page.locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: name }).first();
    try {
      await row.waitFor({ timeout: 5000 });
      await row.click();
      await tab.waitFor({ timeout: 5000 });
    } catch (e) {
      await page.keyboard.press("Escape");
      if (attempt >= 5) throw e;
    }
  }
  await tab.click();
  await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
}

/** The text of the newest log file named `name` under `root` (VS Code writes each output channel of a
 * window session to its own file: a reload starts a new one). */
export function newestLog(root: string, name = "Head Lens.log"): string {
  const found: { path: string; mtime: number }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(name)) found.push({ path: p, mtime: statSync(p).mtimeMs });
    }
  };
  walk(root);
  const newest = found.sort((a, b) => b.mtime - a.mtime)[0];
  return newest ? readFileSync(newest.path, "utf8") : "";
}

/** Reloads the window and waits for the new workbench (not the old one still on screen while it unloads). */
export async function reloadWindow(page: Page): Promise<void> {
  const marked = () => page.evaluate(() => (window as unknown as { headLensBeforeReload?: boolean }).headLensBeforeReload === true);
  await page.evaluate(() => ((window as unknown as { headLensBeforeReload?: boolean }).headLensBeforeReload = true));
  await runCommand(page, "Developer: Reload Window");
  for (let i = 0; ; i++) {
    // While the page navigates, evaluating fails: that, too, means "not reloaded yet".
    const old = await marked().catch(() => true);
    if (!old && (await page.locator(".monaco-workbench").count()) > 0) break;
    if (i > 300) throw new Error("the window did not reload within 60 s");
    await page.waitForTimeout(200);
  }
  await page.locator(".statusbar").waitFor({ timeout: 60_000 });
}

/** The webview document (of several open) that shows `selector`. */
export async function frameWith(page: Page, selector: string, timeout = 120_000): Promise<Frame> {
  const deadline = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      try {
        if (await f.locator(selector).count()) return f;
      } catch {
        /* a frame going away */
      }
    }
    if (Date.now() > deadline) throw new Error(`no webview shows ${selector}`);
    await page.waitForTimeout(250);
  }
}
