/**
 * Memory soak (issue #25): 500 consecutive live-attention runs in one real VS Code window
 * (code-server + Chromium, the end-to-end tests' harness), the way a user makes them: a file of
 * 1 023 tokens (1 024 with BOS) is run with Show Attention, L1H0 is enlarged so that the editor's
 * highlights follow the cursor, then each step moves the cursor and makes one edit (type a
 * character, undo it, type another, delete it), which re-runs the model once.
 *
 * A run is counted when the panel shows its predictions ("· all in N ms") and the editor shows the
 * head's highlights again — what the user sees, not the number of keystrokes. Every 10 runs: the
 * extension host process's RSS (from /proc; the engine is a worker_thread of it), and after a forced
 * GC (DevTools protocol) the extension host's JS heap and the engine worker's, each with the
 * ArrayBuffer memory it holds outside its heap. The workbench page's heap is printed for reference.
 *
 * Model: a real-size trained-like model (bench/realSizeModel.ts: V 48 262, d_model 512, 2 × 8 heads,
 * n_ctx 1 024) — the bundled demo models have n_ctx 256.
 *
 *   npm run bench:soak [-- --runs 500 --json bench/results/soak.json --snapshots DIR [--snapshot-runs 20,500]]
 * --snapshots writes heap snapshots of the extension host and the worker after the last run (or the
 * runs listed), for DevTools' Memory tab to compare. A snapshot leaves the process's RSS a few hundred
 * MiB higher for good (malloc keeps what it used): RSS after one taken before the end says nothing.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { record } from "./record";
import { join } from "node:path";
import { Gpt2Tokenizer } from "../src/worker/loaders/vocabulary";
import { tempDir } from "../test/support/engine";
import { writeModelDir } from "../test/support/models";
import { REPO, runCommand, Session, startVSCode } from "../test/e2e/harness";
import { innerPanelFrame, openFile, vsix } from "../test/e2e/uxSupport";
import { realSizeWeights } from "./realSizeModel";
import { extensionHostPid, Inspector, rssBytes } from "./soakProbe";
import { judge, Sample, soakFigures, summary } from "./soakVerdict";

// playwright-core sits in test/e2e/node_modules: its types come through the harness.
type Page = Session["page"];
type Frame = Awaited<ReturnType<typeof innerPanelFrame>>;

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg("--runs", "500"));
const EVERY = 10;
const HEAD = "L1H0";
const RUN_TIMEOUT_MS = 180_000;

/** 1 023 GPT-2 tokens (1 024 with BOS): lines of 12 common words, every id inside the model's 48 262. */
export function soakText(tokens = 1023): string {
  const words = [
    "value system return people number string file data world state public power water history family",
    "market table model class method object error result point house school program energy policy future",
    "health trade peace security union budget growth science income problem question answer reason",
    "example format module index length window buffer",
  ]
    .join(" ")
    .split(" ");
  const tok = Gpt2Tokenizer.get();
  let x = 2025;
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let text = "";
  for (let i = 0; tok.encode(text).length < tokens; i++) {
    const w = words[Math.floor(rand() * words.length)];
    text += i % 12 === 0 ? (i ? "\n" : "") + w : ` ${w}`;
  }
  // The last word may have pushed the count past the target: drop characters until it is met.
  while (tok.encode(text).length > tokens) text = text.slice(0, -1);
  const ids = tok.encode(text);
  if (ids.length !== tokens || ids.some((id) => id >= 48262))
    throw new Error(`soak text: ${ids.length} tokens, max id ${Math.max(...ids)}`);
  return text;
}

/** Counts completed runs inside the attention panel: each time its caption gains " · all in N ms". */
async function watchRuns(frame: Frame): Promise<void> {
  await frame.evaluate(() => {
    const w = window as unknown as { soakRuns: number; soakTokens: number[] };
    const meta = document.querySelector(".meta")!;
    let done = /· all in \d+ ms/.test(meta.textContent ?? "");
    w.soakRuns = 0;
    w.soakTokens = [];
    new MutationObserver(() => {
      const text = meta.textContent ?? "";
      const now = /· all in \d+ ms/.test(text);
      if (now && !done) {
        w.soakRuns++;
        w.soakTokens.push(Number(/· ([\d,]+) tokens/.exec(text)?.[1].replace(/,/g, "")));
      }
      done = now;
    }).observe(meta, { childList: true, characterData: true, subtree: true });
  });
}

const runsSeen = (frame: Frame) => frame.evaluate(() => (window as unknown as { soakRuns: number }).soakRuns);

/** Whether the editor shows the head's highlights: the query token's label "L1H0 from '…' · BOS …". */
async function highlightShown(page: Page): Promise<boolean> {
  return page
    .locator(".editor-instance .view-lines")
    .first()
    .evaluate(
      (root: Element, head: string) =>
        [...root.querySelectorAll("span")].some((e) => getComputedStyle(e, "::after").content.includes(`${head} from`)),
      HEAD,
    );
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Step i: move the cursor (the highlights follow it, no run), then one edit (one run). Every four
 * steps leave the text as it was and the cursor 3 characters further: type "s", undo it, type "e",
 * delete it. The cursor stays far from the text's start, which a run of more than 1 023 tokens cuts.
 */
async function step(page: Page, i: number): Promise<void> {
  const moves = [["ArrowRight", "ArrowRight"], ["ArrowDown"], ["ArrowRight"], ["ArrowLeft", "ArrowRight"]][i % 4];
  for (const k of moves) await page.keyboard.press(k);
  const edit = ["s", "Control+Z", "e", "Backspace"][i % 4];
  if (edit.length === 1) await page.keyboard.type(edit);
  else await page.keyboard.press(edit);
}

async function main(): Promise<void> {
  const weights = realSizeWeights(2, "trained-like");
  const modelName = weights.config.model_name!;
  const modelDir = writeModelDir(join(tempDir("head-lens-soak-"), modelName), weights, "F16");
  const s = await startVSCode(vsix(), { "soak.txt": soakText() }, { "headLens.modelFolders": [modelDir] });
  let inspector: Inspector | undefined;
  try {
    const page = s.page;
    const hostPid = await extensionHostPid(s.server.pid!);
    await openFile(page, "soak.txt");
    await page.keyboard.press("Control+A");
    const t0 = Date.now();
    await runCommand(page, "Head Lens: Show Attention", modelName);
    const frame = await innerPanelFrame(page);
    await frame.locator(".meta", { hasText: "all in" }).waitFor({ timeout: RUN_TIMEOUT_MS });
    const caption = await frame.locator(".meta").innerText();
    if (!/· 1,024 tokens \(BOS prepended\)/.test(caption)) throw new Error(`the first run is not 1 024 tokens: ${caption}`);
    console.log(`first run (model load included): ${((Date.now() - t0) / 1000).toFixed(1)} s — ${caption}`);
    await runCommand(page, "View: Close Primary Side Bar"); // room for the editor and the panel side by side
    await frame.locator(`.thumb[data-layer='1'][data-head='0']`).click();
    await frame.locator(`.big canvas[data-head='${HEAD}']`).waitFor({ timeout: RUN_TIMEOUT_MS });
    // The cursor in the middle of the text, in view: the highlights follow it.
    await page.locator(".editor-instance .monaco-editor .view-lines").first().click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").fill(":20:30");
    await page.keyboard.press("Enter");
    await waitFor("the first highlights", () => highlightShown(page), 60_000);

    inspector = await Inspector.open(hostPid);
    await inspector.watchWorkers();
    const workerSession = await inspector.workerSession("/dist/worker.js");
    const renderer = await page.context().newCDPSession(page);
    await watchRuns(frame);

    const samples: Sample[] = [];
    const latencies: number[] = [];
    const sample = async (run: number) => {
      const rssBeforeGc = rssBytes(hostPid);
      const host = await inspector!.heapAfterGc();
      const worker = await inspector!.heapAfterGc(workerSession);
      await renderer.send("HeapProfiler.collectGarbage");
      const page = (await renderer.send("Runtime.getHeapUsage")).usedSize;
      const x: Sample = { run, rssBeforeGc, rss: rssBytes(hostPid), host, worker, page, at: Date.now() };
      samples.push(x);
      console.log(summary.row(x));
    };
    const snapshotDir = arg("--snapshots", "");
    if (snapshotDir) mkdirSync(snapshotDir, { recursive: true });
    const snapshotRuns = arg("--snapshot-runs", String(RUNS)).split(",").map(Number);
    const snapshots = async (run: number) => {
      if (!snapshotDir) return;
      await inspector!.writeHeapSnapshot(join(snapshotDir, `host-${run}.heapsnapshot`));
      await inspector!.writeHeapSnapshot(join(snapshotDir, `worker-${run}.heapsnapshot`), workerSession);
    };
    console.log(summary.header);
    await sample(0);
    for (let i = 0; i < RUNS; i++) {
      const before = await runsSeen(frame);
      const start = Date.now();
      await step(page, i);
      await waitFor(`run ${i + 1} in the panel`, async () => (await runsSeen(frame)) > before);
      await waitFor(`run ${i + 1}'s highlights`, () => highlightShown(page));
      latencies.push(Date.now() - start);
      const seen = await runsSeen(frame);
      if (seen !== i + 1) throw new Error(`after ${i + 1} edits the panel showed ${seen} runs: an edit ran twice or not at all`);
      if ((i + 1) % EVERY === 0) await sample(i + 1);
      if (snapshotRuns.includes(i + 1)) await snapshots(i + 1);
    }
    const tokens = await frame.evaluate(() => (window as unknown as { soakTokens: number[] }).soakTokens);
    const verdict = judge(samples);
    console.log(summary.report(verdict, { runs: RUNS, tokens, latencies, model: `${modelName} (V 48 262, d_model 512, 2 × 8 heads)` }));
    const out = arg("--json", "");
    if (out)
      writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, tokens, latencies, samples, verdict }, null, 1));
    soakFigures(verdict, RUNS, "this run").forEach(record);
    process.exitCode = verdict.pass ? 0 : 1;
  } catch (e) {
    await s.page.screenshot({ path: join(REPO, "test-output", "soak-failure.png") }).catch(() => undefined);
    throw e;
  } finally {
    inspector?.close();
    await s.close();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(2);
  });
}
