/**
 * Issue #25's CUDA provider in real VS Code (code-server), against a local stand-in for NuGet
 * (HEAD_LENS_CUDA_MANIFEST names its manifest): with "cuda" first in headLens.executionProviders
 * and no provider installed, Head Lens asks before downloading (size and host shown, nothing
 * fetched yet); Download installs it; the next analysis loads onnxruntime from the install, and —
 * no GPU here, and the stand-in's libraries are not real ones — says why CUDA did not start and
 * shows the head computed on the CPU.
 */
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { panelFrame, REPO, runCommand, Session, startVSCode } from "./harness";
import { screenshotFailures, vsix } from "./uxSupport";
import { FakeNuget, startFakeNuget } from "../support/fakeNuget";

const OUT = join(REPO, "test-output");
const ORT_VERSION = (
  JSON.parse(readFileSync(join(REPO, "node_modules", "onnxruntime-node", "package.json"), "utf8")) as { version: string }
).version;

let s: Session;
let nuget: FakeNuget;
let dir: string;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  nuget = await startFakeNuget();
  dir = mkdtempSync(join(tmpdir(), "hl-e2e-cuda-"));
  const manifest = nuget.writeManifest(join(dir, "manifest.json"), ORT_VERSION);
  s = await startVSCode(
    vsix(),
    { "notes.md": "# Notes\n" },
    { "headLens.executionProviders": ["cuda", "cpu"] },
    { HEAD_LENS_CUDA_MANIFEST: manifest },
  );
});
after(async () => {
  await s?.close();
  await nuget?.close();
  rmSync(dir, { recursive: true, force: true });
});
screenshotFailures(() => s, OUT, "cuda-");

const toast = (text: string) => s.page.locator(".notification-toast", { hasText: text });

describe("issue #25: the CUDA provider downloaded at first use", () => {
  test("asked before anything is fetched, with the size and host", async () => {
    const offer = toast("CUDA provider is not installed");
    await offer.waitFor({ timeout: 90_000 });
    assert.match(await offer.innerText(), /Download it \([\d.]+ MiB from 127\.0\.0\.1:\d+, checksummed\)\? It needs/);
    assert.equal(nuget.requests.length, 0, "nothing fetched before the answer");
  });

  test("Download installs it from the stand-in (through its redirect to the CDN)", async () => {
    await toast("CUDA provider is not installed").locator(".monaco-button", { hasText: "Download" }).click();
    await toast("the CUDA provider is installed").waitFor({ timeout: 60_000 });
    assert.deepEqual(
      nuget.requests.map((r) => r.host),
      ["feed", "cdn"],
    );
  });

  test("the next analysis loads the install, says why CUDA did not start, and shows the head from the CPU", async () => {
    await runCommand(s.page, "Head Lens: Analyze Head", "demo-attn-2l", "Layer 1", "L1H2");
    const warning = toast("is used instead of cuda");
    await warning.waitFor({ timeout: 90_000 });
    assert.match(
      await warning.innerText(),
      /execution provider cpu is used instead of cuda: the CUDA provider installed in .*onnxruntime-cuda.* could not be loaded/,
    );
    await panelFrame(s.page).locator("#head-1-2:not(.pending) .card").first().waitFor({ timeout: 90_000 });
  });
});
