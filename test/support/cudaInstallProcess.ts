/**
 * One CUDA provider install in its own process, as a second VS Code window or the CLI would run it:
 *   node out/test/support/cudaInstallProcess.js <storage> <manifest.json>
 * Prints {root, verified, library} (verified: the folder install() returned passes installed() when it
 * returns; library: the inode of the CUDA library in it, which this process's engine would load) or
 * {error, code}, and exits 0 or 1.
 *
 * With HEAD_LENS_TEST_SLOW_FS_MS set, every rename and recursive delete under <storage> first waits
 * that long (a slow disk), so that two installs finishing together overlap in their last step.
 */
import fs from "node:fs";
import { CudaProvider, readManifest } from "../../src/host/gpu/cudaProvider";
import { errorMessage, isHeadLensError } from "../../src/core/errors";

function slowDown(storageDir: string, ms: number): void {
  const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const { renameSync, rmSync } = fs;
  const mine = (p: fs.PathLike) => String(p).startsWith(storageDir);
  fs.renameSync = (from, to) => {
    if (mine(from)) pause();
    renameSync(from, to);
  };
  fs.rmSync = (p, opts) => {
    if (mine(p) && opts?.recursive) pause();
    rmSync(p, opts);
  };
}

async function main(): Promise<void> {
  const [storageDir, manifestPath] = process.argv.slice(2);
  const slow = Number(process.env.HEAD_LENS_TEST_SLOW_FS_MS ?? 0);
  if (slow > 0) slowDown(storageDir, slow);
  const provider = new CudaProvider({ storageDir, manifest: readManifest(manifestPath), platform: "linux-x64" });
  try {
    const root = await provider.install();
    const library = fs.statSync(`${root}/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so`).ino;
    process.stdout.write(JSON.stringify({ root, verified: provider.installed() === root, library }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: errorMessage(e), code: isHeadLensError(e) ? e.code : undefined }));
    process.exitCode = 1;
  }
}

void main();
