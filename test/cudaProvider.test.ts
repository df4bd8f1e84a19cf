/**
 * The CUDA provider's download and install (src/host/gpu) against a local stand-in for NuGet and its
 * CDN: what ends up on disk, and what is refused, for each way a download goes wrong. The expected
 * library bytes are the ones the stand-in put into its package, not what the installer wrote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CudaProvider, PINNED_MANIFEST, ProviderManifest } from "../src/host/gpu/cudaProvider";
import { downloadVerified } from "../src/host/gpu/verifiedDownload";
import { chooseProviders } from "../src/host/gpu/providerChoice";
import { isHeadLensError } from "../src/core/errors";
import { loadOrt, missingLibrary } from "../src/worker/ortModule";
import { FakeNuget, startFakeNuget } from "./support/fakeNuget";

const ORT_VERSION = (JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")) as { version: string }).version;
const BIN = ["node_modules", "onnxruntime-node", "bin", "napi-v6", "linux", "x64"];

async function withNuget(body: (nuget: FakeNuget, storage: string) => Promise<void>): Promise<void> {
  const nuget = await startFakeNuget();
  const storage = mkdtempSync(join(tmpdir(), "hl-cuda-"));
  try {
    await body(nuget, storage);
  } finally {
    await nuget.close();
    rmSync(storage, { recursive: true, force: true });
  }
}

const provider = (storage: string, manifest: ProviderManifest) =>
  new CudaProvider({ storageDir: storage, manifest, platform: "linux-x64" });

/** Everything under storage/onnxruntime-cuda (nothing at all when the install left nothing behind). */
const leftovers = (storage: string) =>
  existsSync(join(storage, "onnxruntime-cuda")) ? readdirSync(join(storage, "onnxruntime-cuda")) : [];

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isHeadLensError(e), `not a HeadLensError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test("a download through a redirect to another host installs the libraries beside a copy of onnxruntime-node", async () => {
  await withNuget(async (nuget, storage) => {
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    assert.equal(p.installed(), undefined);
    let last = 0;
    const root = await p.install({ onProgress: ({ received }) => (last = received) });
    assert.equal(last, nuget.nupkg.length);
    assert.deepEqual(
      nuget.requests.map((r) => r.host),
      ["feed", "cdn"],
    );
    const bin = join(root, ...BIN);
    for (const [name, bytes] of Object.entries(nuget.libraries)) assert.ok(readFileSync(join(bin, name)).equals(bytes), name);
    assert.ok(!existsSync(join(bin, "libonnxruntime_providers_tensorrt.so")), "only the pinned files are extracted");
    for (const f of ["onnxruntime_binding.node", "libonnxruntime.so.1"]) assert.ok(existsSync(join(bin, f)), f);
    assert.ok(existsSync(join(root, "node_modules", "onnxruntime-common", "dist", "cjs", "index.js")));
    assert.deepEqual(leftovers(storage), [`${ORT_VERSION}-linux-x64`], "no temporary folder or package left");
    assert.equal(p.installed(), root);
    // Installed: the worker gets the copy, with the CPU after CUDA to fall back to.
    assert.deepEqual(
      chooseProviders(["cuda"], () => p),
      { epPreference: ["cuda", "cpu"], ortRoot: root },
    );
    // Installed: the next start asks nothing of the network.
    assert.equal(await p.install(), root);
    assert.equal(nuget.requests.length, 2);
  });
});

test("a package whose sha256 differs from the pinned one is refused and nothing is kept", async () => {
  await withNuget(async (nuget, storage) => {
    nuget.faults.corrupt = 1;
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    await rejectsWith(p.install(), "gpu.integrity", /sha256 [0-9a-f]{64}, expected [0-9a-f]{64}.*deleted/);
    assert.deepEqual(leftovers(storage), []);
    assert.equal(p.installed(), undefined);
  });
});

test("a download cut off half way is not kept, and the next attempt installs", async () => {
  await withNuget(async (nuget, storage) => {
    nuget.faults.cutShort = 1;
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    await rejectsWith(p.install(), "gpu.interrupted", /interrupted after \d+ of \d+ bytes|ended after \d+ of \d+ bytes/);
    assert.deepEqual(leftovers(storage), []);
    assert.equal(p.installed(), undefined);
    const root = await p.install();
    assert.equal(p.installed(), root);
  });
});

test("a download that stalls is given up, not waited on forever", async () => {
  await withNuget(async (nuget, storage) => {
    nuget.faults.stall = 1;
    const dest = join(storage, "pkg");
    await rejectsWith(
      downloadVerified(nuget.url, dest, { sha256: "0".repeat(64), size: nuget.nupkg.length }, { stallMs: 300 }),
      "gpu.interrupted",
      /stalled after 1000 bytes/,
    );
    assert.deepEqual(readdirSync(storage), []);
  });
});

test("a server announcing another size is refused before anything is written", async () => {
  await withNuget(async (nuget, storage) => {
    const p = provider(storage, nuget.manifest(ORT_VERSION, { size: nuget.nupkg.length + 1 }));
    await rejectsWith(p.install(), "gpu.integrity", new RegExp(`is ${nuget.nupkg.length} bytes, not the pinned ${nuget.nupkg.length + 1}`));
    assert.deepEqual(leftovers(storage), []);
  });
});

test("offline: one clear error naming the host, no retry loop", async () => {
  // A port nothing listens on any more (connection refused), then a server that drops every connection.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as { port: number }).port;
  await new Promise((r) => closed.close(r));
  await withNuget(async (nuget, storage) => {
    const p = provider(storage, nuget.manifest(ORT_VERSION, { url: `http://127.0.0.1:${port}/pkg.nupkg` }));
    await rejectsWith(p.install(), "gpu.offline", new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\).*offline`));
    assert.deepEqual(leftovers(storage), []);
  });
  let connections = 0;
  const dropper = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", r));
  try {
    const dest = join(tmpdir(), `hl-cuda-drop-${process.pid}`);
    const url = `http://127.0.0.1:${(dropper.address() as { port: number }).port}/pkg.nupkg`;
    await assert.rejects(
      downloadVerified(url, dest, { sha256: "0".repeat(64), size: 10 }),
      (e) => isHeadLensError(e) && e.code.startsWith("gpu."),
    );
    assert.equal(connections, 1);
    assert.ok(!existsSync(dest));
  } finally {
    await new Promise((r) => dropper.close(r));
  }
});

test("a package without the pinned libraries is refused, nothing installed", async () => {
  await withNuget(async (nuget, storage) => {
    const m = nuget.manifest(ORT_VERSION);
    m.platforms["linux-x64"]!.files["libonnxruntime_providers_cuda.so"] = "runtimes/linux-x64/native/missing.so";
    await rejectsWith(provider(storage, m).install(), "gpu.package", /has no runtimes\/linux-x64\/native\/missing\.so/);
    assert.deepEqual(leftovers(storage), []);
  });
});

test("no pinned checksum, another platform, another onnxruntime version: refused without a request", async () => {
  await withNuget(async (nuget, storage) => {
    const cases: [CudaProvider, RegExp][] = [
      [
        provider(storage, nuget.manifest(ORT_VERSION, { sha256: "TO-BE-PINNED-BY-RELEASE-STEP", size: 0 })),
        /no pinned checksum.*docs\/gpu\.md/,
      ],
      [
        new CudaProvider({ storageDir: storage, manifest: nuget.manifest(ORT_VERSION), platform: "darwin-arm64" }),
        /for linux-x64 only, not darwin-arm64/,
      ],
      [
        provider(storage, nuget.manifest("0.0.1")),
        new RegExp(`manifest is for onnxruntime 0\\.0\\.1 but Head Lens bundles ${ORT_VERSION}`),
      ],
    ];
    for (const [p, message] of cases) {
      assert.match(p.unavailable() ?? "", message);
      await rejectsWith(p.install(), "gpu.unavailable", message);
    }
    assert.equal(nuget.requests.length, 0);
    assert.deepEqual(leftovers(storage), []);
  });
});

test("the pinned manifest is for the bundled onnxruntime-node and the NuGet package its install script uses", () => {
  assert.equal(PINNED_MANIFEST.ortVersion, ORT_VERSION);
  // onnxruntime-node's own install script's metadata: the package and paths it downloads for CUDA.
  const meta = createRequire(__filename)("onnxruntime-node/script/install-metadata.js") as {
    manifests: Record<string, Record<string, { path: string }>>;
    packages: Record<string, { name: string }>;
  };
  const pkg = PINNED_MANIFEST.platforms["linux-x64"]!;
  const name = meta.packages["nuget:linux/x64:cuda12"].name.toLowerCase();
  assert.equal(pkg.url, `https://api.nuget.org/v3-flatcontainer/${name}/${ORT_VERSION}/${name}.${ORT_VERSION}.nupkg`);
  const theirs = meta.manifests["linux/x64:cuda12"];
  for (const [file, path] of Object.entries(pkg.files)) assert.equal(theirs[`./${file}`].path, path);
});

test("providers without cuda ask nothing of the CUDA provider; cuda missing falls back to the rest, or the CPU", () => {
  let asked = 0;
  const never = () => {
    asked++;
    throw new Error("asked");
  };
  assert.deepEqual(chooseProviders(["webgpu", "cpu"], never), { epPreference: ["webgpu", "cpu"] });
  assert.equal(asked, 0);
  const storage = mkdtempSync(join(tmpdir(), "hl-cuda-"));
  try {
    const p = new CudaProvider({ storageDir: storage, platform: "linux-x64" });
    const only = chooseProviders(["cuda"], () => p);
    assert.deepEqual(only.epPreference, ["cpu"]);
    assert.match(only.missing ?? "", /no pinned checksum|not installed/);
    assert.deepEqual(chooseProviders(["cuda", "webgpu"], () => p).epPreference, ["webgpu"]);
  } finally {
    rmSync(storage, { recursive: true, force: true });
  }
});

test("a missing CUDA library, as glibc's loader names it, becomes what to install", () => {
  const glibc = (lib: string) => `${lib}: cannot open shared object file: No such file or directory`;
  assert.match(missingLibrary(glibc("libcudnn.so.9")) ?? "", /^cuDNN 9 was not found \(libcudnn\.so\.9\): install cuDNN 9 for CUDA 12/);
  assert.match(missingLibrary(glibc("libcublasLt.so.12")) ?? "", /^the CUDA 12 runtime was not found \(libcublasLt\.so\.12\)/);
  assert.match(missingLibrary(glibc("libfoo.so.3")) ?? "", /not found \(libfoo\.so\.3\)/);
  assert.equal(missingLibrary("invalid ELF header"), undefined);
});

test(
  "once this process runs the bundled onnxruntime, a CUDA copy is not loaded beside it, and the user is told",
  { skip: process.platform !== "linux" },
  async () => {
    await import("onnxruntime-node"); // maps the bundled libonnxruntime.so.1, as an earlier engine worker would have
    const { ort, warning } = loadOrt(join(tmpdir(), "hl-cuda-elsewhere"));
    assert.equal(typeof ort.InferenceSession.create, "function");
    assert.match(warning ?? "", /onnxruntime was already loaded in this process from .*onnxruntime-node[/\\]bin.*Reload Window/);
  },
);

/** One install in a child process (test/support/cudaInstallProcess.ts): another window, or the CLI. */
function installInProcess(storage: string, manifestPath: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(__dirname, "support", "cudaInstallProcess.js"), storage, manifestPath], {
      env: { ...process.env, HEAD_LENS_TEST_SLOW_FS_MS: "40" }, // a slow disk: the two installs' last steps overlap
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (status) => resolve({ status, out }));
  });
}

test("two installs at once, in two processes, both end with one whole, verified install and nothing half-made", async () => {
  await withNuget(async (nuget, storage) => {
    const manifestPath = nuget.writeManifest(join(storage, "manifest.json"), ORT_VERSION);
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    // Five rounds: nothing installed yet, then a damaged install both processes find and replace.
    for (let round = 0; round < 5; round++) {
      if (round > 0) truncateSync(join(p.root, ...BIN, "libonnxruntime_providers_cuda.so"), 1000);
      assert.equal(p.installed(), undefined);
      nuget.faults.gate = 2; // both downloads finish together, so both installs reach the end together
      const runs = await Promise.all([installInProcess(storage, manifestPath), installInProcess(storage, manifestPath)]);
      // Both used the same install: the one that finished first. The other did not replace it under it (a window that has
      // loaded onnxruntime from it loads the CUDA library from it later, when a session starts).
      const library = statSync(join(p.root, ...BIN, "libonnxruntime_providers_cuda.so")).ino;
      for (const r of runs) {
        assert.equal(r.status, 0, `round ${round}: ${r.out}`);
        assert.deepEqual(JSON.parse(r.out), { root: p.root, verified: true, library }, `round ${round}`);
      }
      assert.equal(p.installed(), p.root, `round ${round}`);
      for (const [name, bytes] of Object.entries(nuget.libraries))
        assert.ok(readFileSync(join(p.root, ...BIN, name)).equals(bytes), `round ${round}: ${name}`);
      assert.deepEqual(leftovers(storage), [basename(p.root)], `round ${round}: no temporary folder, lock or old copy left`);
    }
  });
});

test("a lock left by an install that died is broken, and the install goes on", async () => {
  await withNuget(async (nuget, storage) => {
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    // A pid that is not running (above Linux's pid_max), on this host: its owner died between taking the lock and releasing it.
    mkdirSync(`${p.root}.lock`, { recursive: true });
    writeFileSync(join(`${p.root}.lock`, "owner.json"), JSON.stringify({ pid: 2 ** 30, host: hostname() }));
    const root = await p.install();
    assert.equal(p.installed(), root);
    assert.deepEqual(leftovers(storage), [basename(root)]);
  });
});

test("an install from an offline mirror is used later without its manifest, and says where it came from", async () => {
  await withNuget(async (nuget, storage) => {
    const root = await provider(storage, nuget.manifest(ORT_VERSION)).install();
    // Later, without HEAD_LENS_CUDA_MANIFEST: the build's own manifest, unpinned or pinning another package.
    for (const sha256 of ["TO-BE-PINNED-BY-RELEASE-STEP", "ab".repeat(32)]) {
      const later = provider(storage, nuget.manifest(ORT_VERSION, { sha256, size: sha256.length, url: "https://api.nuget.org/x.nupkg" }));
      const choice = chooseProviders(["cuda"], () => later);
      assert.equal(choice.ortRoot, root, sha256);
      assert.deepEqual(choice.epPreference, ["cuda", "cpu"]);
      assert.match(
        choice.note ?? "",
        new RegExp(`installed from ${nuget.url.replace(/[.]/g, "\\.")} \\(sha256 [0-9a-f]{16}…\\), not from`),
      );
    }
    // With the manifest it came from: no note.
    assert.equal(chooseProviders(["cuda"], () => provider(storage, nuget.manifest(ORT_VERSION))).note, undefined);
    // Another onnxruntime version's install is never taken for this one's.
    assert.equal(provider(storage, nuget.manifest("0.0.1")).installed(), undefined);
  });
});

test("an install whose files (or record) changed after it was made is refused, named, and replaced by the next install", async () => {
  await withNuget(async (nuget, storage) => {
    const p = provider(storage, nuget.manifest(ORT_VERSION));
    const bin = (...parts: string[]) => join(p.root, ...BIN, ...parts);
    const damage: [string, () => void, RegExp][] = [
      // Same size, one byte changed: the sizes alone would not see it.
      [
        "a library rewritten",
        () => {
          const bytes = readFileSync(bin("libonnxruntime_providers_cuda.so"));
          bytes[1234] ^= 0xff;
          writeFileSync(bin("libonnxruntime_providers_cuda.so"), bytes);
        },
        /node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so was changed after the install/,
      ],
      [
        "a file added",
        () => writeFileSync(bin("libonnxruntime_providers_tensorrt.so"), "x"),
        /providers_tensorrt\.so was not installed by Head Lens/,
      ],
      [
        "a file grown",
        () => appendFileSync(join(p.root, "node_modules", "onnxruntime-node", "package.json"), " "),
        /package\.json is \d+ bytes, not the/,
      ],
      ["a library removed", () => rmSync(bin("libonnxruntime_providers_shared.so")), /providers_shared\.so is missing/],
      ["the record removed", () => rmSync(join(p.root, "installed.json")), /no readable installed\.json/],
      [
        "the record naming a file outside the install",
        () => {
          const record = JSON.parse(readFileSync(join(p.root, "installed.json"), "utf8")) as { files: Record<string, unknown> };
          record.files["../../outside"] = { size: 1, sha256: "0".repeat(64), stamp: "" };
          writeFileSync(join(p.root, "installed.json"), JSON.stringify(record));
        },
        /names "\.\.\/\.\.\/outside", not a path inside the install/,
      ],
    ];
    for (const [what, act, problem] of damage) {
      const root = await p.install();
      act();
      assert.equal(p.installed(), undefined, what);
      assert.match(p.state().problem ?? "", problem, what);
      assert.match(chooseProviders(["cuda"], () => p).missing ?? "", /is not used: .*; install it again/, what);
      assert.equal(await p.install(), root, what);
      for (const [name, bytes] of Object.entries(nuget.libraries)) assert.ok(readFileSync(bin(name)).equals(bytes), `${what}: ${name}`);
      assert.deepEqual(leftovers(storage), [basename(root)], what);
    }
  });
});

test("an install copied to another storage folder (new files, same bytes) is used there", async () => {
  await withNuget(async (nuget, storage) => {
    const root = await provider(storage, nuget.manifest(ORT_VERSION)).install();
    const elsewhere = join(storage, "copy");
    const copy = provider(elsewhere, nuget.manifest(ORT_VERSION));
    cpSync(root, copy.root, { recursive: true });
    const before = readFileSync(join(copy.root, "installed.json"), "utf8");
    assert.equal(copy.installed(), copy.root);
    // Hashed once, then its new stamps recorded: the record changed, the files did not.
    assert.notEqual(readFileSync(join(copy.root, "installed.json"), "utf8"), before);
    assert.equal(copy.installed(), copy.root);
  });
});
