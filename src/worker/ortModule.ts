/**
 * Which onnxruntime-node this process runs: the bundled one, or the copy the host installed with the
 * CUDA provider beside its libonnxruntime (WorkerConfig.ortRoot, see src/host/gpu/cudaProvider.ts).
 *
 * A process holds one libonnxruntime.so.1: once loaded, the dynamic loader hands it (by its soname)
 * to any later binding, and onnxruntime looks for provider libraries beside the copy that is
 * loaded. So a worker started after another one loaded the bundled copy (the extension host after a
 * settings change) cannot switch to the CUDA copy; it says so instead of failing obscurely.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as Ort from "onnxruntime-node";

export interface LoadedOrt {
  ort: typeof Ort;
  /** Set when the requested copy could not be used: what the user should know. */
  warning?: string;
}

/** The folder of the libonnxruntime.so.1 already mapped into this process (Linux), if any. */
export function loadedOrtDir(): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const line = readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .find((l) => l.endsWith("/libonnxruntime.so.1"));
    return line ? dirname(line.slice(line.indexOf("/"))) : undefined;
  } catch {
    return undefined;
  }
}

/** /proc/self/maps names the real path; storage paths may go through a symlink (e.g. /home → /var/home). */
function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

export function ortBinDir(root: string): string {
  return join(root, "node_modules", "onnxruntime-node", "bin", "napi-v6", process.platform, process.arch);
}

export function loadOrt(root: string | undefined): LoadedOrt {
  const bundled = () => require("onnxruntime-node") as typeof Ort;
  if (!root) return { ort: bundled() };
  const loaded = loadedOrtDir();
  if (loaded && !samePath(loaded, ortBinDir(root))) {
    return {
      ort: bundled(),
      warning:
        `onnxruntime was already loaded in this process from ${loaded}, so the CUDA provider installed in ${root} ` +
        'cannot be used until it restarts (VS Code: run "Developer: Reload Window")',
    };
  }
  return { ort: createRequire(join(root, "package.json"))("onnxruntime-node") as typeof Ort };
}

/**
 * Why the CUDA provider failed to start, as what is missing and what to do. onnxruntime's exception
 * says only "Failed to load shared library" (the loader's reason goes to its native log on stderr,
 * which VS Code never shows), so the libraries are loaded again here, one at a time, and the
 * loader's own error names what is missing. `process.dlopen` of a library that is not a Node addon
 * loads it (and its dependencies), then fails with "did not self-register": that failure means the
 * library itself loads.
 */
export function diagnoseCuda(ortMessage: string, root: string | undefined): string {
  const first = ortMessage.split("\n")[0];
  const loaded = loadedOrtDir();
  if (root && loaded && !samePath(loaded, ortBinDir(root)))
    return `onnxruntime was loaded from ${loaded} before the CUDA provider was installed; restart (VS Code: "Developer: Reload Window")`;
  const dir = loaded ?? (root ? ortBinDir(root) : undefined);
  const shared = dir && join(dir, "libonnxruntime_providers_shared.so");
  if (!dir || !existsSync(shared!) || !existsSync(join(dir, "libonnxruntime_providers_cuda.so")))
    return 'the CUDA provider is not installed (VS Code: run "Head Lens: Install CUDA Provider"; CLI: add --install-cuda)';
  const broken = (why: string) =>
    `the CUDA provider installed in ${root ?? dir} could not be loaded (${why}); delete that folder and install it again`;
  const sharedError = dlopenError(shared!);
  if (sharedError) return broken(sharedError);
  const driverError = dlopenError("libcuda.so.1");
  if (driverError)
    return `no NVIDIA driver was found (${driverError}): install the NVIDIA driver (≥ 525.60.13, CUDA 12 capable) and check nvidia-smi`;
  const cudaError = dlopenError(join(dir, "libonnxruntime_providers_cuda.so"));
  if (cudaError) return missingLibrary(cudaError) ?? broken(cudaError);
  return `the CUDA provider's libraries load but it did not start (${first}): check that nvidia-smi lists the GPU and that its driver supports CUDA 12`;
}

/** The dynamic loader's error for a library, or undefined when it (and everything it needs) loads. */
function dlopenError(path: string): string | undefined {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, path);
    return undefined;
  } catch (e) {
    const message = (e as Error).message.split("\n")[0];
    return /did not self-register/.test(message) ? undefined : message;
  }
}

/** A loader error naming a missing CUDA library (glibc: "<lib>: cannot open shared object file: …"), in words. */
export function missingLibrary(loaderError: string): string | undefined {
  const lib = /(lib[\w.+-]+\.so[\d.]*): cannot open shared object file/.exec(loaderError)?.[1];
  if (!lib) return undefined;
  if (/^libcudnn/.test(lib))
    return `cuDNN 9 was not found (${lib}): install cuDNN 9 for CUDA 12 and make sure its libraries are on the library path (ldconfig or LD_LIBRARY_PATH)`;
  if (/^lib(cublas|cublasLt|cudart|cufft|curand|nvrtc|cupti|nvJitLink)/.test(lib))
    return (
      `the CUDA 12 runtime was not found (${lib}): install the CUDA 12.x runtime libraries ` +
      "and make sure they are on the library path (ldconfig or LD_LIBRARY_PATH)"
    );
  return `a library the CUDA provider needs was not found (${lib}); see docs/gpu.md for what it needs`;
}
