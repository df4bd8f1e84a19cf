// The release step that pins the CUDA provider's package: downloads each platform's URL in
// src/host/gpu/cudaProvider.json, and writes its sha256 and size there (run with network access,
// after updating onnxruntime-node; commit the result). The build refuses to download unpinned packages.
//   node scripts/pinCudaProvider.mjs
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
const { fetch } = globalThis; // Node ≥ 18

const path = "src/host/gpu/cudaProvider.json";
const manifest = JSON.parse(readFileSync(path, "utf8"));
const ort = JSON.parse(readFileSync("node_modules/onnxruntime-node/package.json", "utf8")).version;
if (manifest.ortVersion !== ort) {
  console.error(`${path} is for onnxruntime ${manifest.ortVersion}, node_modules has ${ort}: update its version and URLs first`);
  process.exit(2);
}
for (const [platform, pkg] of Object.entries(manifest.platforms)) {
  const res = await fetch(pkg.url);
  if (!res.ok) throw new Error(`${pkg.url}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  pkg.sha256 = createHash("sha256").update(bytes).digest("hex");
  pkg.size = bytes.length;
  console.log(`${platform}: ${pkg.size} bytes, sha256 ${pkg.sha256}`);
}
writeFileSync(path, JSON.stringify(manifest, null, 2) + "\n");
