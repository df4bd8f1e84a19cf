// The release step that pins the CUDA provider's package. For each platform in
// src/host/gpu/cudaProvider.json it asks NuGet's v3 API what was published for that package: the
// registration leaf (RegistrationsBaseUrl/3.6.0 in the service index: <base><id>/<version>.json) names
// its catalog leaf and its package URL, and the catalog leaf holds `packageHash`, the SHA-512 nuget.org
// computed when the package was pushed (base64, `packageHashAlgorithm` "SHA512"), and `packageSize`.
// It downloads the package and refuses to pin bytes whose SHA-512 or size differ from those; only then
// does it write the sha256 (what Head Lens checks at install time) and the size. Nothing is written
// unless every platform verifies. Run with network access after updating onnxruntime-node; commit the result.
//   node scripts/pinCudaProvider.mjs [--manifest <file>] [--index <NuGet v3 service index URL>]
// (--manifest and --index: the tests' stand-in feed, or a private NuGet feed.)
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { URL } from "node:url";
const { fetch } = globalThis; // Node ≥ 18

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const path = opt("--manifest", "src/host/gpu/cudaProvider.json");
const index = opt("--index", "https://api.nuget.org/v3/index.json");

function refuse(message) {
  console.error(`pinCudaProvider: ${message}; ${path} was not changed`);
  process.exit(1);
}

async function get(url, what) {
  const res = await fetch(url).catch((e) => refuse(`cannot fetch ${what} ${url} (${e.cause?.code ?? e.message})`));
  if (!res.ok) refuse(`${what} ${url}: HTTP ${res.status}`);
  return res;
}

const manifest = JSON.parse(readFileSync(path, "utf8"));
const ort = JSON.parse(readFileSync("node_modules/onnxruntime-node/package.json", "utf8")).version;
if (manifest.ortVersion !== ort) {
  console.error(`${path} is for onnxruntime ${manifest.ortVersion}, node_modules has ${ort}: update its version and URLs first`);
  process.exit(2);
}

const resources = (await (await get(index, "the NuGet service index")).json()).resources ?? [];
const registrations = (resources.find((r) => r["@type"] === "RegistrationsBaseUrl/3.6.0") ??
  refuse(`${index} lists no RegistrationsBaseUrl/3.6.0`))["@id"].replace(/\/?$/, "/");

for (const [platform, pkg] of Object.entries(manifest.platforms)) {
  // The flat container's URL shape: <base>/<id>/<version>/<id>.<version>.nupkg, both lower case.
  const [, id, version] =
    /\/([^/]+)\/([^/]+)\/\1\.\2\.nupkg$/.exec(new URL(pkg.url).pathname) ?? refuse(`${platform}: ${pkg.url} is not a NuGet package URL`);
  const leaf = await (await get(`${registrations}${id}/${version}.json`, `${platform}: the registration of`)).json();
  if (String(leaf.packageContent).toLowerCase() !== pkg.url.toLowerCase())
    refuse(`${platform}: NuGet's package for ${id} ${version} is ${leaf.packageContent}, not the manifest's ${pkg.url}`);
  const entry = await (await get(leaf.catalogEntry, `${platform}: the catalog entry of`)).json();
  if (entry.packageHashAlgorithm !== "SHA512" || typeof entry.packageHash !== "string")
    refuse(`${platform}: the catalog entry ${leaf.catalogEntry} publishes no SHA512 packageHash`);
  const bytes = Buffer.from(await (await get(pkg.url, `${platform}: the package`)).arrayBuffer());
  const sha512 = createHash("sha512").update(bytes).digest("base64");
  if (sha512 !== entry.packageHash)
    refuse(`${platform}: the bytes downloaded from ${pkg.url} have SHA-512 ${sha512}, but NuGet published ${entry.packageHash}`);
  if (typeof entry.packageSize === "number" && entry.packageSize !== bytes.length)
    refuse(`${platform}: ${pkg.url} sent ${bytes.length} bytes, but NuGet published ${entry.packageSize}`);
  pkg.sha256 = createHash("sha256").update(bytes).digest("hex");
  pkg.size = bytes.length;
  console.log(`${platform}: ${pkg.size} bytes, SHA-512 as NuGet published it, sha256 ${pkg.sha256}`);
}
writeFileSync(path, JSON.stringify(manifest, null, 2) + "\n");
