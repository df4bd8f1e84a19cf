/**
 * A local stand-in for NuGet's package feed and the CDN it hands packages out from: two servers
 * (two origins), the feed answering a 302 to the CDN as nuget.org's flat container does through
 * its CDN, the CDN serving the bytes. Faults: a body cut off half way, one byte flipped, a body
 * that stalls, a wrong Content-Length. Every request is recorded.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import type { ProviderManifest } from "../../src/host/gpu/cudaProvider";
import { writeZip } from "./zipWriter";

export interface FakeNugetFaults {
  cutShort: number;
  corrupt: number;
  stall: number;
}

export interface FakeNuget {
  /** The package's URL on the feed (redirected to the CDN). */
  url: string;
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
export const PACKAGE_PATH = "/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/1.30.0/microsoft.ml.onnxruntime.gpu.linux.1.30.0.nupkg";

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
  const faults: FakeNugetFaults = { cutShort: 0, corrupt: 0, stall: 0 };
  const cdn: Server = createServer((req, res) => {
    requests.push({ host: "cdn", path: req.url ?? "" });
    if (req.url !== `/packages${PACKAGE_PATH}`) return void res.writeHead(404).end("not found");
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
  });
  const feed: Server = createServer((req, res) => {
    requests.push({ host: "feed", path: req.url ?? "" });
    if (req.url !== PACKAGE_PATH) return void res.writeHead(404).end("not found");
    res.writeHead(302, { Location: `${cdnUrl}/packages${PACKAGE_PATH}` }).end();
  });
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
