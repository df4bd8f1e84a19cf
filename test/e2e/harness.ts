/**
 * Real VS Code for end-to-end tests: code-server 4.100.3 (VS Code 1.100) with the extension
 * installed from the built .vsix, driven through Debian's Chromium by playwright-core.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, FrameLocator, Page } from "playwright-core";

export const REPO = resolve(__dirname, "..", "..", "..");
const E2E = join(REPO, "test", "e2e");
const ENTRY = join(E2E, "node_modules", "code-server", "out", "node", "entry.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { chromium } = require(join(E2E, "node_modules", "playwright-core")) as typeof import("playwright-core");

export interface Session {
  page: Page;
  browser: Browser;
  server: ChildProcess;
  home: string;
  workspace: string;
  settingsFile: string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

export function writeUserSettings(file: string, theme: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(
    file,
    JSON.stringify(
      {
        ...extra,
        "workbench.colorTheme": theme,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "security.workspace.trust.enabled": false,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "update.mode": "none",
        "editor.hover.delay": 150,
        "files.simpleDialog.enable": true,
        "window.dialogStyle": "custom",
        "workbench.colorCustomizations": {},
      },
      null,
      2,
    ),
  );
}

export async function startVSCode(
  vsix: string,
  workspaceFiles: Record<string, string>,
  extraSettings: Record<string, unknown> = {},
  extraEnv: Record<string, string> = {},
): Promise<Session> {
  const home = mkdtempSync(join(tmpdir(), "head-lens-e2e-"));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    VSCODE_CLI_DISABLE_TELEMETRY: "1",
    ...extraEnv,
  };
  const userData = join(home, "user-data"),
    extensions = join(home, "extensions"),
    workspace = join(home, "workspace");
  mkdirSync(join(userData, "User"), { recursive: true });
  mkdirSync(workspace, { recursive: true });
  for (const [name, text] of Object.entries(workspaceFiles)) writeFileSync(join(workspace, name), text);
  const settingsFile = join(userData, "User", "settings.json");
  writeUserSettings(settingsFile, "Default Light Modern", extraSettings);
  const install = spawnSync(
    process.execPath,
    [ENTRY, "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix],
    { env, encoding: "utf8", timeout: 120_000 },
  );
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(`installing ${vsix} into code-server failed: ${install.stdout}\n${install.stderr}`);
  }
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      ENTRY,
      "--auth",
      "none",
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      workspace,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let serverLog = "";
  server.stdout!.on("data", (d) => (serverLog += d));
  server.stderr!.on("data", (d) => (serverLog += d));
  const deadline = Date.now() + 60_000;
  while (!/HTTP server listening/.test(serverLog)) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`code-server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  await page.locator(".statusbar").waitFor({ timeout: 60_000 });
  return {
    page,
    browser,
    server,
    home,
    workspace,
    settingsFile,
    async close() {
      await browser.close().catch(() => undefined);
      server.kill("SIGTERM");
    },
  };
}

const escapeRe = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Clicks the quick-pick row whose label is exactly `label` (Enter could pick a "recently used" row). */
async function pickRow(page: Page, label: string, timeout = 30_000): Promise<void> {
  const row = page
    .locator(".quick-input-widget .quick-input-list .monaco-list-row")
    .filter({ has: page.locator(".label-name", { hasText: new RegExp(`^\\s*${escapeRe(label)}\\s*$`) }) })
    .first();
  await row.waitFor({ state: "visible", timeout });
  await row.click();
}

/** Runs a command through the command palette, then answers each quick pick with an exact label.
 * Retries while the palette does not list the command yet (extension contributions load late). */
export async function runCommand(page: Page, title: string, ...answers: string[]): Promise<void> {
  const input = page.locator(".quick-input-widget input");
  for (let attempt = 0; ; attempt++) {
    await page.locator(".monaco-workbench .part.statusbar").click({ position: { x: 5, y: 5 } }); // focus the workbench, not a webview
    await page.keyboard.press("F1");
    await input.waitFor({ state: "visible" });
    await input.fill(`>${title}`);
    try {
      await pickRow(page, title, 3000);
      break;
    } catch (e) {
      await page.keyboard.press("Escape");
      if (attempt >= 10) throw e;
      await page.waitForTimeout(500);
    }
  }
  await answerPicks(page, ...answers);
}

/** Answers the quick picks now showing, one exact label each. */
export async function answerPicks(page: Page, ...answers: string[]): Promise<void> {
  const input = page.locator(".quick-input-widget input");
  for (const a of answers) {
    await input.waitFor({ state: "visible" });
    await input.fill(a);
    await pickRow(page, a);
  }
}

/** The Head Lens panel's document (inside VS Code's two webview iframes). */
export function panelFrame(page: Page): FrameLocator {
  return page.frameLocator("iframe.webview.ready").frameLocator("iframe#active-frame");
}
