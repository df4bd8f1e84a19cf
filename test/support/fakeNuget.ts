/**
 * A local stand-in for NuGet's package feed and the CDN it hands packages out from: two servers
 * (two origins), the feed answering a 302 to the CDN as nuget.org's flat container does through
 * its CDN, the CDN serving the bytes. Faults: a body cut off half way, one byte flipped, a body
 * that stalls, a wrong Content-Length, downloads held until several are waiting (to race two
 * installs). Every request is recorded.
 *
 * The feed also speaks the part of NuGet's v3 API the release step (scripts/pinCudaProvider.mjs)
 * reads, at nuget.org's paths: the service index (/v3/index.json), the package's registration leaf
 * in the gzipped SemVer 2 hive (RegistrationsBaseUrl/3.6.0: /v3/registration5-gz-semver2/<id>/<version>.json,
 * with `catalogEntry` and `packageContent`), and its catalog leaf (/v3/catalog0/data/…, with
 * `packageHash`: the package's SHA-512 in base64, `packageHashAlgorithm` "SHA512", `packageSize`).
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { ProviderManifest } from "../../src/host/gpu/cudaProvider";
import { writeZip } from "./zipWriter";

export interface FakeNugetFaults {
  cutShort: number;
  corrupt: number;
  stall: number;
  /** Package downloads are held until this many are waiting, then all are served at once (0: none held). */
  gate: number;
  /** A packageHash the catalog publishes instead of the package's own (a feed and a CDN that disagree). */
  publishedHash?: string;
}

export interface FakeNuget {
  /** The package's URL on the feed (redirected to the CDN). */
  url: string;
  /** The feed's service index (NuGet v3). */
  index: string;
  requests: { host: "feed" | "cdn"; path: string }[];
  faults: FakeNugetFaults;
  /** The package bytes, and the libraries inside it as the install must write them. */
  nupkg: Buffer;
  libraries: Record<string, Buffer>;
  /** A manifest for the bundled onnxruntime-node version pinning this package. */
  manifest(ortVersion: string, over?: Partial<{ sha256: string; size: number; url: string }>): ProviderManifest;
  writeManifest(path: string, ortVersion: string): string;
  close(): Promise<void>;
}

const NATIVE = "runtimes/linux-x64/native";
const ID = "microsoft.ml.onnxruntime.gpu.linux";
export const PACKAGE_PATH = `/v3-flatcontainer/${ID}/1.30.0/${ID}.1.30.0.nupkg`;
export const INDEX_PATH = "/v3/index.json";
const REGISTRATION_LEAF = `/v3/registration5-gz-semver2/${ID}/1.30.0.json`;
const CATALOG_LEAF = `/v3/catalog0/data/2026.01.01.00.00.00/${ID}.1.30.0.json`;

/** Distinct, incompressible-enough bytes for a fake library (its contents are never loaded as code by these tests' expectations). */
function library(name: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = createHash("sha256").update(name).digest().readUInt32LE(0);
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export async function startFakeNuget(): Promise<FakeNuget> {
  const libraries = {
    "libonnxruntime_providers_shared.so": library("shared", 20_000),
    "libonnxruntime_providers_cuda.so": library("cuda", 700_000),
  };
  const nupkg = writeZip([
    { name: "Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec", data: Buffer.from("<package/>"), deflate: true },
    ...Object.entries(libraries).map(([name, data]) => ({ name: `${NATIVE}/${name}`, data, deflate: true })),
    { name: `${NATIVE}/libonnxruntime_providers_tensorrt.so`, data: library("tensorrt", 5_000), deflate: true },
  ]);
  const requests: FakeNuget["requests"] = [];
  const faults: FakeNugetFaults = { cutShort: 0, corrupt: 0, stall: 0, gate: 0 };
  const held: (() => void)[] = [];
  const cdn: Server = createServer((req, res) => {
    requests.push({ host: "cdn", path: req.url ?? "" });
    if (req.url !== `/packages${PACKAGE_PATH}`) return void res.writeHead(404).end("not found");
    if (faults.gate > 0) {
      held.push(() => servePackage(res));
      if (held.length >= faults.gate) {
        faults.gate = 0;
        for (const serve of held.splice(0)) serve();
      }
      return;
    }
    servePackage(res);
  });
  const servePackage = (res: ServerResponse) => {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": nupkg.length });
    if (faults.cutShort > 0) {
      faults.cutShort--;
      res.write(nupkg.subarray(0, nupkg.length >> 1), () => res.socket?.destroy());
    } else if (faults.stall > 0) {
      faults.stall--;
      res.write(nupkg.subarray(0, 1000)); // then nothing, connection left open
    } else if (faults.corrupt > 0) {
      faults.corrupt--;
      const bad = Buffer.from(nupkg);
      bad[bad.length >> 1] ^= 0xff;
      res.end(bad);
    } else res.end(nupkg);
  };
  const feed: Server = createServer((req, res) => {
    requests.push({ host: "feed", path: req.url ?? "" });
    if (req.url === PACKAGE_PATH) return void res.writeHead(302, { Location: `${cdnUrl}/packages${PACKAGE_PATH}` }).end();
    const api = apiDocument(req);
    if (!api) return void res.writeHead(404).end("not found");
    const body = Buffer.from(JSON.stringify(api.doc));
    // nuget.org serves the registration hives gzipped (Content-Encoding), the rest plain.
    res.writeHead(200, { "Content-Type": "application/json", ...(api.gzip ? { "Content-Encoding": "gzip" } : {}) });
    res.end(api.gzip ? gzipSync(body) : body);
  });
  const apiDocument = (req: IncomingMessage): { doc: unknown; gzip: boolean } | undefined => {
    if (req.url === INDEX_PATH)
      return {
        gzip: false,
        doc: {
          version: "3.0.0",
          resources: [
            { "@id": `${feedUrl}/v3-flatcontainer/`, "@type": "PackageBaseAddress/3.0.0" },
            { "@id": `${feedUrl}/v3/registration5-semver1/`, "@type": "RegistrationsBaseUrl" },
            { "@id": `${feedUrl}/v3/registration5-gz-semver2/`, "@type": "RegistrationsBaseUrl/3.6.0" },
          ],
        },
      };
    if (req.url === REGISTRATION_LEAF)
      return {
        gzip: true,
        doc: {
          "@id": `${feedUrl}${REGISTRATION_LEAF}`,
          "@type": ["Package", "http://schema.nuget.org/catalog#Permalink"],
          catalogEntry: `${feedUrl}${CATALOG_LEAF}`,
          listed: true,
          packageContent: `${feedUrl}${PACKAGE_PATH}`,
          registration: `${feedUrl}/v3/registration5-gz-semver2/${ID}/index.json`,
        },
      };
    if (req.url === CATALOG_LEAF)
      return {
        gzip: false,
        doc: {
          "@id": `${feedUrl}${CATALOG_LEAF}`,
          "@type": ["PackageDetails", "catalog:Permalink"],
          id: "Microsoft.ML.OnnxRuntime.Gpu.Linux",
          version: "1.30.0",
          packageHash: faults.publishedHash ?? createHash("sha512").update(nupkg).digest("base64"),
          packageHashAlgorithm: "SHA512",
          packageSize: nupkg.length,
        },
      };
    return undefined;
  };
  const listen = (s: Server) =>
    new Promise<string>((r) => s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
  const cdnUrl = await listen(cdn);
  const feedUrl = await listen(feed);
  const sha256 = createHash("sha256").update(nupkg).digest("hex");
  const manifest: FakeNuget["manifest"] = (ortVersion, over = {}) => ({
    ortVersion,
    requirements: "test",
    platforms: {
      "linux-x64": {
        url: over.url ?? `${feedUrl}${PACKAGE_PATH}`,
        sha256: over.sha256 ?? sha256,
        size: over.size ?? nupkg.length,
        files: Object.fromEntries(Object.keys(libraries).map((name) => [name, `${NATIVE}/${name}`])),
      },
    },
  });
  return {
    url: `${feedUrl}${PACKAGE_PATH}`,
    index: `${feedUrl}${INDEX_PATH}`,
    requests,
    faults,
    nupkg,
    libraries,
    manifest,
    writeManifest: (path, ortVersion) => {
      writeFileSync(path, JSON.stringify(manifest(ortVersion)));
      return path;
    },
    close: async () => {
      for (const s of [feed, cdn]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };
}
