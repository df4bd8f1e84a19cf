/**
 * onnxruntime's CUDA provider, installed at first use into Head Lens's storage (a .vsix never runs
 * onnxruntime-node's install script, which is what fetches it for an npm install).
 *
 * onnxruntime loads `libonnxruntime_providers_{shared,cuda}.so` only from the folder of the
 * `libonnxruntime.so.1` it runs from (Env::GetRuntimePath: dladdr on itself), and the extension's
 * own folder is replaced on every update and may be read-only. So the install is a private copy of
 * the bundled onnxruntime-node (JavaScript, binding, libonnxruntime) with the two provider libraries
 * from the pinned NuGet package beside it:
 *   <storage>/onnxruntime-cuda/<version>-<platform>/
 *     node_modules/onnxruntime-node/{package.json,dist,bin/napi-v6/<os>/<arch>/…}
 *     node_modules/onnxruntime-common/{package.json,dist/cjs}
 *     installed.json    written last: the package it came from, every file's size and sha256 (installRecord.ts)
 * It is built in a temporary folder and renamed into place (installSwap.ts: under a lock, as two
 * windows may install at once), so a folder with installed.json is always whole; the engine worker
 * loads onnxruntime-node from it (WorkerConfig.ortRoot). The record makes an install self-describing:
 * one made from an offline mirror (HEAD_LENS_CUDA_MANIFEST) is used later without that variable.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { errorMessage, HeadLensError, isHeadLensError } from "../../core/errors";
import pinned from "./cudaProvider.json";
import { downloadVerified, DownloadProgress } from "./verifiedDownload";
import { runExtract } from "../convertRunner";
import { checkRecord, writeRecord } from "./installRecord";
import { putInPlace, WORK_PREFIX } from "./installSwap";

export interface ProviderPackage {
  url: string;
  sha256: string;
  size: number;
  /** Library name → its path inside the package. */
  files: Record<string, string>;
}

export interface ProviderManifest {
  ortVersion: string;
  requirements: string;
  platforms: Record<string, ProviderPackage | undefined>;
}

export const PINNED_MANIFEST: ProviderManifest = pinned;

/** What is at the install's place: a whole install (and where its package came from), or why there is none. */
export interface InstallState {
  root?: string;
  /** Set when the install came from another package than this manifest's (an offline mirror's): say so, it is not silent. */
  otherSource?: string;
  /** Why the folder there is not used (damaged, interrupted, another version); undefined when there is no folder. */
  problem?: string;
}

export interface CudaProviderOptions {
  /** Head Lens's storage: the extension's global storage, or the CLI's cache folder. */
  storageDir: string;
  manifest?: ProviderManifest;
  /** The bundled onnxruntime-node's folder (default: the one `require` finds). */
  ortPackageDir?: string;
  platform?: string;
}

const MIB = 1024 * 1024;

export class CudaProvider {
  readonly manifest: ProviderManifest;
  readonly platform: string;
  private readonly ortDir: string;

  constructor(private readonly opts: CudaProviderOptions) {
    this.manifest = opts.manifest ?? PINNED_MANIFEST;
    this.platform = opts.platform ?? `${process.platform}-${process.arch}`;
    this.ortDir = opts.ortPackageDir ?? dirname(require.resolve("onnxruntime-node/package.json"));
  }

  /** Where this version's provider is (or would be) installed. */
  get root(): string {
    return join(this.opts.storageDir, "onnxruntime-cuda", `${this.manifest.ortVersion}-${this.platform}`);
  }

  /** The package for this platform, if onnxruntime publishes one. */
  get package(): ProviderPackage | undefined {
    return this.manifest.platforms[this.platform];
  }

  /** Why the provider cannot be installed here, or undefined. */
  unavailable(): string | undefined {
    const bundled = (JSON.parse(readFileSync(join(this.ortDir, "package.json"), "utf8")) as { version: string }).version;
    if (bundled !== this.manifest.ortVersion)
      return `the CUDA provider manifest is for onnxruntime ${this.manifest.ortVersion} but Head Lens bundles ${bundled}`;
    if (!this.package)
      return `onnxruntime-node ${bundled} has a CUDA provider for ${Object.keys(this.manifest.platforms).join(", ")} only, not ${this.platform}`;
    if (!/^[0-9a-f]{64}$/.test(this.package.sha256) || !(this.package.size > 0))
      return (
        `this build of Head Lens has no pinned checksum for the CUDA provider package (${this.package.url}); ` +
        "its release step (scripts/pinCudaProvider.mjs) was not run — install the provider by hand as docs/gpu.md says"
      );
    return undefined;
  }

  /** Download size in MiB, for the question asked before it. */
  get downloadMiB(): number {
    return Math.round(((this.package?.size ?? 0) / MIB) * 10) / 10;
  }

  /** The installed root if a whole, verified install of this version is there (no network). */
  installed(): string | undefined {
    return this.state().root;
  }

  /**
   * The install at this version's place, checked against its own record (installRecord.ts): every file as installed, for this
   * onnxruntime version and platform, holding the manifest's libraries. It is used whichever package it came from: this
   * manifest's (the pinned one, or the mirror's HEAD_LENS_CUDA_MANIFEST names now), or another one the record names — an
   * install from an offline mirror, made when that variable was set — which `otherSource` then says.
   */
  state(): InstallState {
    if (!existsSync(this.root)) return {};
    const pkg = this.package;
    if (!pkg) return { problem: `there is no CUDA provider for ${this.platform}` };
    const bin = this.binParts().join("/");
    const check = checkRecord(
      this.root,
      Object.keys(pkg.files).map((name) => `${bin}/${name}`),
    );
    if (!check.record) return { problem: check.problem };
    const { record } = check;
    if (record.ortVersion !== this.manifest.ortVersion || record.platform !== this.platform)
      return { problem: `it is for onnxruntime ${record.ortVersion} on ${record.platform}` };
    if (record.source.sha256 === pkg.sha256 && record.source.size === pkg.size) return { root: this.root };
    return {
      root: this.root,
      otherSource:
        `the CUDA provider in ${this.root} was installed from ${record.source.url} (sha256 ${record.source.sha256.slice(0, 16)}…), ` +
        "not from the package this build's manifest names; its files are as they were installed",
    };
  }

  /** Downloads, verifies and installs the provider; returns its root. Nothing half-made is left on failure. */
  async install(opts: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {}): Promise<string> {
    const done = this.installed();
    if (done) return done;
    const why = this.unavailable();
    if (why) throw new HeadLensError(why, "gpu.unavailable");
    const pkg = this.package!;
    const base = dirname(this.root);
    mkdirSync(base, { recursive: true });
    this.removeStaleTemps(base);
    const temp = mkdtempSync(join(base, WORK_PREFIX));
    try {
      const nupkg = join(temp, "package.nupkg");
      await downloadVerified(pkg.url, nupkg, pkg, opts);
      const node = join(temp, "node_modules", "onnxruntime-node");
      for (const part of ["package.json", "dist", join("bin", "napi-v6", ...this.platform.split("-"))])
        cpSync(join(this.ortDir, part), join(node, part), { recursive: true });
      const common = packageDir(require.resolve("onnxruntime-common", { paths: [this.ortDir] }));
      for (const part of ["package.json", join("dist", "cjs")])
        cpSync(join(common, part), join(temp, "node_modules", "onnxruntime-common", part), { recursive: true });
      const bin = this.binDir(temp);
      await runExtract({ archive: nupkg, files: pkg.files, dir: bin }).catch((e: unknown) => {
        if (isHeadLensError(e) && e.code.startsWith("gpu.")) throw e; // the package's own fault, said by zipFiles.ts
        // The conversion worker's words (timeout, crash) are about checkpoints: say what failed here, and what to do.
        throw new HeadLensError(
          `unpacking the CUDA provider into ${base} failed (${errorMessage(e)}); check the free disk space there and try again`,
          "gpu.install",
        );
      });
      rmSync(nupkg);
      const source = { url: pkg.url, sha256: pkg.sha256, size: pkg.size };
      await writeRecord(temp, { ortVersion: this.manifest.ortVersion, platform: this.platform, source });
      // Another window or the CLI may have finished first: then its install stays (it may be loaded already) and ours goes.
      await putInPlace(temp, this.root, () => this.installed() !== undefined);
      const root = this.installed();
      if (!root)
        throw new HeadLensError(`the CUDA provider installed into ${this.root} does not verify: ${this.state().problem}`, "gpu.install");
      return root;
    } catch (e) {
      rmSync(temp, { recursive: true, force: true });
      const concurrent = this.installed(); // another window installed it meanwhile
      if (concurrent) return concurrent;
      if (e instanceof HeadLensError) throw e;
      throw new HeadLensError(`installing the CUDA provider into ${base} failed: ${errorMessage(e)}`, "gpu.install");
    }
  }

  private binDir(root: string): string {
    return join(root, ...this.binParts());
  }

  /** Where the binding and the libraries are inside an install. */
  private binParts(): string[] {
    return ["node_modules", "onnxruntime-node", "bin", "napi-v6", ...this.platform.split("-")];
  }

  /**
   * Folders of an install that was killed (the process died; a live one's are seconds old). ctime too: a replaced install renamed
   * aside keeps its old mtime. Best effort: another process may be deleting the same folder.
   */
  private removeStaleTemps(base: string): void {
    for (const name of readdirSync(base)) {
      const p = join(base, name);
      const s = name.startsWith(WORK_PREFIX) ? statSync(p, { throwIfNoEntry: false }) : undefined;
      if (s && Date.now() - Math.max(s.mtimeMs, s.ctimeMs) > 24 * 3600_000) {
        try {
          rmSync(p, { recursive: true, force: true });
        } catch {
          // left for the next install
        }
      }
    }
  }
}

/** The package folder of a module's resolved main file (onnxruntime-common's exports hide its package.json; dist/cjs has one of its own). */
function packageDir(main: string): string {
  for (let d = dirname(main); d !== dirname(d); d = dirname(d))
    if (existsSync(join(d, "package.json")) && (JSON.parse(readFileSync(join(d, "package.json"), "utf8")) as { name?: string }).name)
      return d;
  throw new HeadLensError(`no package.json above ${main}`, "gpu.install");
}

/** A manifest read from a file (tests, and serving the package from a local folder on an offline machine). */
export function readManifest(path: string): ProviderManifest {
  let m: ProviderManifest;
  try {
    m = JSON.parse(readFileSync(path, "utf8")) as ProviderManifest;
  } catch (e) {
    throw new HeadLensError(`CUDA provider manifest ${path}: not readable JSON (${errorMessage(e)})`, "gpu.manifest");
  }
  if (typeof m?.ortVersion !== "string" || typeof m.platforms !== "object" || m.platforms === null)
    throw new HeadLensError(
      `CUDA provider manifest ${path}: needs "ortVersion" and "platforms" (see src/host/gpu/cudaProvider.json)`,
      "gpu.manifest",
    );
  for (const [platform, pkg] of Object.entries(m.platforms)) {
    const bad = (what: string) => new HeadLensError(`CUDA provider manifest ${path}: platforms.${platform}.${what}`, "gpu.manifest");
    if (typeof pkg?.url !== "string" || !/^https?:\/\//.test(pkg.url)) throw bad("url must be an http(s) URL");
    if (typeof pkg.sha256 !== "string") throw bad("sha256 must be a string");
    if (!Number.isSafeInteger(pkg.size) || pkg.size <= 0) throw bad("size must be a byte count");
    if (typeof pkg.files !== "object" || pkg.files === null) throw bad("files must map file names to archive entries");
    // Names become paths in the install folder: plain file names only.
    for (const [name, entry] of Object.entries(pkg.files))
      if (!/^[\w.+-]+$/.test(name) || name.startsWith(".") || typeof entry !== "string")
        throw bad(`files: "${name}" must be a plain file name mapped to an entry name`);
  }
  return { ...m, requirements: typeof m.requirements === "string" ? m.requirements : PINNED_MANIFEST.requirements };
}
