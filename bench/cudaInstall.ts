/**
 * Benchmark: what the CUDA provider's install costs beyond the download itself. A stand-in package
 * of the real provider's size (incompressible bytes under the NuGet paths, deflated as NuGet's are)
 * is served from this process; the install (download + sha256 + copy of onnxruntime-node + extract
 * + record + rename) runs side by side with curl downloading the same URL to disk, alternating.
 * Medians. Also what checking an install against its record costs at each engine start (a stat per
 * file), and once after the folder was copied (every file hashed again).
 *
 *   npm run bench:cudaInstall [-- --mb 300 --repeats 3]
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CudaProvider } from "../src/host/gpu/cudaProvider";
import { writeZip } from "../test/support/zipWriter";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MB = arg("--mb", 300);
const REPEATS = arg("--repeats", 3);
const NATIVE = "runtimes/linux-x64/native";
const ORT_VERSION = (JSON.parse(readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")) as { version: string }).version;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hl-bench-cuda-"));
  const pkg = join(dir, "package.nupkg");
  const libs = { "libonnxruntime_providers_shared.so": randomBytes(20_000), "libonnxruntime_providers_cuda.so": randomBytes(MB * 2 ** 20) };
  writeFileSync(pkg, writeZip(Object.entries(libs).map(([name, data]) => ({ name: `${NATIVE}/${name}`, data, deflate: true }))));
  const size = statSync(pkg).size;
  const sha256 = createHash("sha256");
  for await (const chunk of createReadStream(pkg)) sha256.update(chunk as Buffer);
  const server = createServer((_req, res) => {
    res.writeHead(200, { "Content-Length": size });
    createReadStream(pkg).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/package.nupkg`;
  const manifest = {
    ortVersion: ORT_VERSION,
    requirements: "",
    platforms: {
      "linux-x64": {
        url,
        sha256: sha256.digest("hex"),
        size,
        files: Object.fromEntries(Object.keys(libs).map((n) => [n, `${NATIVE}/${n}`])),
      },
    },
  };
  const ours: number[] = [],
    curl: number[] = [],
    check: number[] = [],
    copied: number[] = [];
  try {
    for (let i = 0; i < REPEATS; i++) {
      let t = performance.now();
      // curl runs in a child process, asynchronously: this process keeps serving.
      await promisify(execFile)("curl", ["-s", "-o", join(dir, "curl.out"), url]);
      curl.push((performance.now() - t) / 1000);
      rmSync(join(dir, "curl.out"));
      const storage = mkdtempSync(join(dir, "storage-"));
      t = performance.now();
      const provider = new CudaProvider({ storageDir: storage, manifest, platform: "linux-x64" });
      await provider.install();
      ours.push((performance.now() - t) / 1000);
      t = performance.now();
      if (!provider.installed()) throw new Error("the install does not verify");
      check.push((performance.now() - t) / 1000);
      const copy = new CudaProvider({ storageDir: join(storage, "copy"), manifest, platform: "linux-x64" });
      cpSync(provider.root, copy.root, { recursive: true });
      t = performance.now();
      if (!copy.installed()) throw new Error("the copied install does not verify");
      copied.push((performance.now() - t) / 1000);
      rmSync(storage, { recursive: true });
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const fmt = (a: number[]) => `${median(a).toFixed(2)} s (${a.map((x) => x.toFixed(2)).join(", ")})`;
  console.log(`stand-in package ${(size / 2 ** 20).toFixed(0)} MiB, served locally; load average ${loadavg()[0].toFixed(1)}`);
  console.log(`curl, download to disk:             ${fmt(curl)}`);
  console.log(
    `install (download, sha256, copy, extract, record, rename): ${fmt(ours)}  = ${(median(ours) / median(curl)).toFixed(2)}× curl`,
  );
  const ms = (a: number[]) => `${(median(a) * 1000).toFixed(1)} ms (${a.map((x) => (x * 1000).toFixed(1)).join(", ")})`;
  console.log(`check before use (a stat per file):  ${ms(check)}`);
  console.log(`check of a copied install (hashed):  ${ms(copied)}`);
}

void main();
