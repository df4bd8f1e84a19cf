/**
 * The CLI's side of `--ep cuda`: the CUDA provider installed into the CLI's cache on
 * `--install-cuda` (progress on stderr), or "cuda" left out with a warning that says why and what
 * to do. HEAD_LENS_CUDA_MANIFEST names another manifest (a stand-in server, a local folder served
 * on an offline machine: bench/gpu.sh).
 */
import { errorMessage, HeadLensError, isHeadLensError } from "../../core/errors";
import { CudaProvider, readManifest } from "../gpu/cudaProvider";
import { chooseProviders, ProviderChoice } from "../gpu/providerChoice";
import { CommonOptions } from "./options";

export async function cliProviders(o: CommonOptions, storageDir: string): Promise<ProviderChoice> {
  let provider: CudaProvider | undefined;
  const get = () =>
    (provider ??= new CudaProvider({
      storageDir,
      manifest: process.env.HEAD_LENS_CUDA_MANIFEST ? readManifest(process.env.HEAD_LENS_CUDA_MANIFEST) : undefined,
    }));
  if (o.ep.includes("cuda") && o.installCuda && !get().installed() && !get().unavailable()) {
    const p = get();
    const from = new URL(p.package!.url).host;
    process.stderr.write(`head-lens: downloading onnxruntime's CUDA provider (${p.downloadMiB} MiB from ${from}) into ${p.root}\n`);
    const tty = process.stderr.isTTY;
    let last = 0;
    try {
      await p.install({
        onProgress: ({ received, total }) => {
          if (!tty || Date.now() - last < 200) return;
          last = Date.now();
          process.stderr.write(`\r\x1b[Khead-lens: ${(received / 2 ** 20).toFixed(0)}/${(total / 2 ** 20).toFixed(0)} MiB`);
        },
      });
      process.stderr.write(`${tty ? "\r\x1b[K" : ""}head-lens: CUDA provider installed and verified\n`);
    } catch (e) {
      if (tty) process.stderr.write("\r\x1b[K");
      // Asked for explicitly: a failed install (a checksum mismatch above all) must not pass as a CPU run.
      throw new HeadLensError(`--install-cuda: ${errorMessage(e)}`, isHeadLensError(e) ? e.code : "gpu.install");
    }
  }
  const choice = chooseProviders(o.ep, get);
  if (choice.note) process.stderr.write(`head-lens: cuda: ${choice.note}\n`);
  if (choice.missing) {
    const p = get();
    const hint =
      o.installCuda || p.unavailable()
        ? ""
        : `; add --install-cuda to download it (${p.downloadMiB} MiB from ${new URL(p.package!.url).host})`;
    process.stderr.write(`head-lens: warning: cuda: ${choice.missing}${hint}; running on ${choice.epPreference.join(", ")}\n`);
  }
  return choice;
}
