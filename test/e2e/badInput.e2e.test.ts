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
import { answerPicks, panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { openFile, screenshotFailures, treeRowIn, typePath, vsix } from "./uxSupport";

const OUT = join(REPO, "test-output");
/** A small binary file: a header, then NUL bytes (VS Code shows its binary preview). its first NUL at offset 4. */
const BINARY = Buffer.concat([Buffer.from("HLB1"), Buffer.alloc(12), Buffer.from(" some text after the header\n")]);
/** The entry of demo-attn-1l's vocab.json that the broken copy gets wrong (an id past GPT-2's 50 257). */
const BAD_INDEX = 7,
  BAD_VALUE = 60000;

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
    { "empty.txt": "", "blob.bin": "", "words.txt": "one two three one two three\n" },
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
