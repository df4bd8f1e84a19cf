// Packages the extension for one platform (onnxruntime-node's native binaries are large, so each
// .vsix carries only its own): node scripts/package.mjs [--target linux-x64] [--out file.vsix] [--release]
// --release (or HEAD_LENS_RELEASE=1): refuse a CUDA provider manifest the release step has not pinned
// (development packages, the tests' among them, keep the placeholders and download nothing).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, statSync } from "node:fs";
import { arch, platform } from "node:os";
import { releaseProblems } from "./cudaPins.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const target = opt("--target", `${platform()}-${arch()}`);
const [os, cpu] = target.split("-");
const supported = ["linux-x64", "linux-arm64", "win32-x64", "win32-arm64", "darwin-arm64"];
if (!supported.includes(target)) {
  console.error(`package: no onnxruntime-node binary for ${target}; supported: ${supported.join(", ")}`);
  process.exit(2);
}
if (args.includes("--release") || process.env.HEAD_LENS_RELEASE === "1") {
  const manifest = "src/host/gpu/cudaProvider.json";
  const ort = JSON.parse(readFileSync("node_modules/onnxruntime-node/package.json", "utf8")).version;
  const problems = releaseProblems(JSON.parse(readFileSync(manifest, "utf8")), ort);
  if (problems.length) {
    console.error(
      `package --release: ${manifest} is not pinned (${problems.join("; ")}).\n` +
        "Run `node scripts/pinCudaProvider.mjs` with network access (it checks the package against NuGet's published SHA-512), " +
        "commit the manifest, then package again (docs/gpu.md, release steps).",
    );
    process.exit(2);
  }
}
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const out = opt("--out", `head-lens-${target}-${pkg.version}.vsix`);
writeFileSync(".vscodeignore", readFileSync("scripts/vscodeignore.template", "utf8").replace("${TARGET_BIN}", `${os}/${cpu}`));
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
// README links and screenshots stay relative (the repository has no public URL to rewrite them to).
execFileSync(
  process.execPath,
  ["node_modules/@vscode/vsce/vsce", "package", "--target", target, "--out", out, "--no-rewrite-relative-links"],
  { stdio: "inherit" },
);
console.log(`${out}: ${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB`);
