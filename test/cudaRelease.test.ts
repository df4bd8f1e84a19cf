/**
 * The CUDA provider's release steps. scripts/pinCudaProvider.mjs against a local stand-in for
 * nuget.org's v3 API (test/support/fakeNuget.ts: service index, gzipped registration leaf, catalog
 * leaf with the package's published SHA-512): it pins the sha256 and size of bytes whose SHA-512 is
 * the published one, and refuses — leaving the manifest as it was — when the bytes served and the
 * hash published disagree (the expected sha256 is computed here from the stand-in's package bytes).
 * And `npm run package -- --release` refuses a manifest that was not pinned.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./support/engine";
import { FakeNuget, startFakeNuget } from "./support/fakeNuget";

const ORT_VERSION = (JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")) as { version: string }).version;
const PLACEHOLDER = "TO-BE-PINNED-BY-RELEASE-STEP";

function pin(manifest: string, index: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["scripts/pinCudaProvider.mjs", "--manifest", manifest, "--index", index], { cwd: REPO_ROOT });
    let stdout = "",
      stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

async function withUnpinned(body: (nuget: FakeNuget, manifest: string) => Promise<void>): Promise<void> {
  const nuget = await startFakeNuget();
  const dir = mkdtempSync(join(tmpdir(), "hl-pin-"));
  const manifest = join(dir, "cudaProvider.json");
  writeFileSync(manifest, JSON.stringify(nuget.manifest(ORT_VERSION, { sha256: PLACEHOLDER, size: 0 }), null, 2));
  try {
    await body(nuget, manifest);
  } finally {
    await nuget.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the release step pins the package whose SHA-512 NuGet published, with its sha256 and size", async () => {
  await withUnpinned(async (nuget, manifest) => {
    const r = await pin(manifest, nuget.index);
    assert.equal(r.status, 0, r.stderr);
    const pinned = JSON.parse(readFileSync(manifest, "utf8")) as ReturnType<FakeNuget["manifest"]>;
    assert.equal(pinned.platforms["linux-x64"]!.sha256, createHash("sha256").update(nuget.nupkg).digest("hex"));
    assert.equal(pinned.platforms["linux-x64"]!.size, nuget.nupkg.length);
    // It read the published hash: the registration leaf, then the catalog leaf it names, before the package.
    const paths = nuget.requests.map((q) => q.path);
    for (const p of ["/v3/index.json", "/v3/registration5-gz-semver2/microsoft.ml.onnxruntime.gpu.linux/1.30.0.json"])
      assert.ok(paths.includes(p), p);
    assert.ok(paths.some((p) => p.startsWith("/v3/catalog0/data/")));
  });
});

test("bytes that differ from NuGet's published SHA-512 are not pinned, and the manifest is left as it was", async () => {
  await withUnpinned(async (nuget, manifest) => {
    const before = readFileSync(manifest, "utf8");
    // The CDN serving other bytes than NuGet published (one byte flipped), then a catalog publishing another hash.
    nuget.faults.corrupt = 1;
    const corrupt = await pin(manifest, nuget.index);
    assert.equal(corrupt.status, 1);
    assert.match(corrupt.stderr, /linux-x64: the bytes downloaded from .* have SHA-512 \S+, but NuGet published \S+; .* was not changed/);
    assert.equal(readFileSync(manifest, "utf8"), before);
    nuget.faults.publishedHash = createHash("sha512").update("another package").digest("base64");
    const other = await pin(manifest, nuget.index);
    assert.equal(other.status, 1);
    assert.match(other.stderr, new RegExp(`but NuGet published ${nuget.faults.publishedHash.replace(/[+/]/g, "\\$&")}`));
    assert.equal(readFileSync(manifest, "utf8"), before);
  });
});

test("a manifest URL that is not NuGet's package for that id and version is refused", async () => {
  await withUnpinned(async (nuget, manifest) => {
    const m = JSON.parse(readFileSync(manifest, "utf8")) as ReturnType<FakeNuget["manifest"]>;
    m.platforms["linux-x64"]!.url = nuget.url.replace(/^http:\/\/[^/]+/, "http://127.0.0.1:9");
    writeFileSync(manifest, JSON.stringify(m));
    const r = await pin(manifest, nuget.index);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /NuGet's package for microsoft\.ml\.onnxruntime\.gpu\.linux 1\.30\.0 is http:\/\/127\.0\.0\.1:\d+\/.*, not the manifest's/,
    );
  });
});

type ReleaseProblems = (manifest: unknown, bundledOrtVersion: string) => string[];
const releaseProblems = async (): Promise<ReleaseProblems> =>
  ((await import(pathToFileURL(join(REPO_ROOT, "scripts", "cudaPins.mjs")).href)) as { releaseProblems: ReleaseProblems }).releaseProblems;

test("a release refuses placeholders and another onnxruntime's manifest, and accepts a pinned one", async () => {
  const problems = await releaseProblems();
  const nuget = await startFakeNuget();
  try {
    assert.deepEqual(problems(nuget.manifest(ORT_VERSION), ORT_VERSION), []);
    assert.deepEqual(problems(nuget.manifest(ORT_VERSION, { sha256: PLACEHOLDER, size: 0 }), ORT_VERSION), [
      `platforms.linux-x64.sha256 is "${PLACEHOLDER}", not a sha256`,
      "platforms.linux-x64.size is 0, not a byte count",
    ]);
    assert.deepEqual(problems(nuget.manifest("0.0.1"), ORT_VERSION), [`it is for onnxruntime 0.0.1, but node_modules has ${ORT_VERSION}`]);
  } finally {
    await nuget.close();
  }
});

const shipped = JSON.parse(readFileSync(join(REPO_ROOT, "src", "host", "gpu", "cudaProvider.json"), "utf8")) as unknown;

test("npm run package -- --release (or HEAD_LENS_RELEASE=1) stops before building while the shipped manifest is unpinned", async (t) => {
  if ((await releaseProblems())(shipped, ORT_VERSION).length === 0) return t.skip("the shipped manifest is pinned");
  const dir = mkdtempSync(join(tmpdir(), "hl-release-"));
  try {
    for (const [args, env] of [
      [["--release"], {}],
      [[], { HEAD_LENS_RELEASE: "1" }],
    ] as const) {
      const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ["scripts/package.mjs", ...args, "--out", join(dir, "x.vsix")], {
          cwd: REPO_ROOT,
          env: { ...process.env, ...env },
        });
        let stderr = "";
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (status) => resolve({ status, stderr }));
      });
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        /package --release: src\/host\/gpu\/cudaProvider\.json is not pinned \(platforms\.linux-x64\.sha256 is .*pinCudaProvider\.mjs/s,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
