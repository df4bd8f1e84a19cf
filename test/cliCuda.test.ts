/**
 * `--ep cuda` through the built CLI, against a local stand-in for NuGet (HEAD_LENS_CUDA_MANIFEST):
 * no request at all without "cuda"; a warning and the CPU without --install-cuda; with it, the
 * provider downloaded into the CLI's cache and onnxruntime-node loaded from there — on this machine
 * (no GPU, and the stand-in's libraries are not real ones) the CUDA provider then fails to load, and
 * the analysis runs on the CPU with a warning that names the install. Later runs without the variable
 * still use that install (it records where it came from). The reports are compared with a plain
 * `--ep cpu` run's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCliAsync } from "./support/cliProcess";
import { startFakeNuget } from "./support/fakeNuget";

const ORT_VERSION = (JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")) as { version: string }).version;
const ANALYZE = ["analyze", "--layer", "1", "--head", "0", "--keys", "3", "--json"];

/** The report without what may differ between providers and runs (timings, the provider's name). */
function reportOf(stdout: string): unknown {
  const { ep: _ep, ...rest } = JSON.parse(stdout) as Record<string, unknown>;
  return rest;
}

test(
  "--ep cuda: no request without it, a warning without --install-cuda, an install from the stand-in with it, the CPU as fallback",
  { skip: process.platform !== "linux" || process.arch !== "x64" ? "the CUDA provider exists for Linux x64 only" : false },
  async () => {
    const nuget = await startFakeNuget();
    const cache = mkdtempSync(join(tmpdir(), "hl-cli-cuda-"));
    const env = {
      ...process.env,
      XDG_CACHE_HOME: cache,
      HEAD_LENS_CUDA_MANIFEST: nuget.writeManifest(join(cache, "manifest.json"), ORT_VERSION),
    };
    try {
      const misused = await runCliAsync([...ANALYZE, "--ep", "cpu", "--install-cuda"], env);
      assert.equal(misused.status, 2);
      assert.match(misused.stderr, /--install-cuda needs "cuda" in --ep/);

      const cpu = await runCliAsync([...ANALYZE, "--ep", "cpu"], env);
      assert.equal(cpu.status, 0, cpu.stderr);
      assert.equal(nuget.requests.length, 0, "cpu only: no request at all");
      assert.doesNotMatch(cpu.stderr, /cuda/i);
      const expected = reportOf(cpu.stdout);

      const asked = await runCliAsync([...ANALYZE, "--ep", "cuda,cpu"], env);
      assert.equal(asked.status, 0, asked.stderr);
      assert.equal(nuget.requests.length, 0, "no download without --install-cuda");
      assert.match(
        asked.stderr,
        new RegExp(
          "warning: cuda: onnxruntime's CUDA provider \\(.*\\) is not installed in .*; " +
            "add --install-cuda to download it \\([\\d.]+ MiB from 127\\.0\\.0\\.1:\\d+\\); running on cpu",
        ),
      );
      assert.deepEqual(reportOf(asked.stdout), expected);

      const root = join(cache, "head-lens", "onnxruntime-cuda", `${ORT_VERSION}-linux-x64`);
      const installed = await runCliAsync([...ANALYZE, "--ep", "cuda", "--install-cuda"], env);
      assert.equal(installed.status, 0, installed.stderr);
      assert.deepEqual(
        nuget.requests.map((r) => r.host),
        ["feed", "cdn"],
      );
      assert.match(installed.stderr, /CUDA provider installed and verified/);
      assert.ok(existsSync(join(root, "installed.json")));
      // The worker loaded onnxruntime-node from the install (the warning names it), then fell back.
      assert.match(
        installed.stderr,
        new RegExp(`warning: execution provider cpu is used instead of cuda: the CUDA provider installed in ${root} could not be loaded`),
      );
      assert.deepEqual(reportOf(installed.stdout), expected);
      assert.equal((JSON.parse(installed.stdout) as { ep: string }).ep, "cpu");

      const again = await runCliAsync([...ANALYZE, "--ep", "cuda,cpu"], env);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(nuget.requests.length, 2, "installed: no second download");
      assert.doesNotMatch(again.stderr, /not installed/);

      // Installed from the stand-in (a mirror, as on an offline machine): used later without HEAD_LENS_CUDA_MANIFEST, saying so.
      const { HEAD_LENS_CUDA_MANIFEST: _mirror, ...plain } = env;
      const later = await runCliAsync([...ANALYZE, "--ep", "cuda,cpu"], plain);
      assert.equal(later.status, 0, later.stderr);
      assert.equal(nuget.requests.length, 2, "no request: the install is used as it is");
      assert.match(
        later.stderr,
        new RegExp(`cuda: the CUDA provider in ${root} was installed from http://127\\.0\\.0\\.1:\\d+/.*, not from the package this build`),
      );
      assert.match(later.stderr, new RegExp(`the CUDA provider installed in ${root} could not be loaded`), "loaded from the install");
      assert.deepEqual(reportOf(later.stdout), expected);
    } finally {
      await nuget.close();
      rmSync(cache, { recursive: true, force: true });
    }
  },
);
