/**
 * A Hugging Face hub client that downloads into the standard HF cache, so files the user already
 * fetched with Python are reused and ours are reusable by Python:
 *   <cache>/models--owner--name/blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>,
 *   refs/<revision> = <commit>.
 * Downloads resume with HTTP Range into `<blob>.incomplete`, are verified against the hub's etag
 * (sha256 for LFS files, git blob sha1 otherwise) and only then renamed into place.
 *
 * We use our own client rather than @huggingface/hub: we need Range resume, byte progress, integrity
 * checks and atomic placement in the Python-compatible cache, which it does not all provide.
 */
import { createHash } from "node:crypto";
import { copyFileSync, createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { HeadLensError } from "../../core/errors";

export interface HubOptions {
  endpoint?: string;
  token?: string;
  cacheDir?: string;
  offline?: boolean;
}

export interface DownloadProgress {
  file: string;
  received: number;
  total: number;
  bytesPerSecond: number;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, "hub");
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface", "hub");
}

export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  return {
    endpoint: env.HF_ENDPOINT || "https://huggingface.co",
    token: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined,
    cacheDir: defaultCacheDir(env),
    offline: ["1", "true", "yes", "on"].includes(String(env.HF_HUB_OFFLINE ?? "").toLowerCase()),
  };
}

interface FileMeta {
  commit: string;
  etag: string;
  size: number;
  /** Where the bytes are (after redirects are resolved by fetch). */
  url: string;
}

const SHA = /^[0-9a-f]{40}$/;

export class HubClient {
  readonly endpoint: string;
  readonly cacheDir: string;
  readonly offline: boolean;
  private readonly token?: string;

  constructor(opts: HubOptions = hubOptionsFromEnv()) {
    this.endpoint = (opts.endpoint ?? "https://huggingface.co").replace(/\/+$/, "");
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
    this.offline = opts.offline ?? false;
    this.token = opts.token;
  }

  repoDir(repo: string): string {
    return join(this.cacheDir, `models--${repo.replace(/\//g, "--")}`);
  }

  /** The cached snapshot path of a file, if present (no network). */
  cachedFile(repo: string, revision: string, file: string): string | undefined {
    const commit = SHA.test(revision) ? revision : this.readRef(repo, revision);
    if (!commit) return undefined;
    const p = join(this.repoDir(repo), "snapshots", commit, file);
    return existsSync(p) ? p : undefined;
  }

  /** Files of the repo at a revision (from the hub, or from the cached snapshot when offline). */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<string[]> {
    if (this.offline) return this.cachedListing(repo, revision) ?? this.offlineError(repo, revision, "the file list");
    let res: Response;
    try {
      res = await this.fetch(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`, { signal });
    } catch (e) {
      const cached = this.cachedListing(repo, revision);
      if (cached) return cached;
      throw this.networkError(repo, e);
    }
    await this.check(res, repo, "file list");
    const body = (await res.json()) as { sha?: string; siblings?: { rfilename: string }[] };
    if (!body.siblings) throw new HeadLensError(`${repo}: the hub's answer has no file list`, "hub.protocol");
    if (body.sha && SHA.test(body.sha)) this.writeRef(repo, revision, body.sha);
    return body.siblings.map((s) => s.rfilename);
  }

  /** A file's size in bytes, from the hub's metadata (no download). */
  async fileSize(repo: string, revision: string, file: string, signal?: AbortSignal): Promise<number> {
    return (await this.head(repo, revision, file, signal)).size;
  }

  /** Downloads (or reuses) a file; returns its snapshot path. */
  async download(repo: string, revision: string, file: string, opts: DownloadOptions = {}): Promise<string> {
    const cached = this.cachedFile(repo, revision, file);
    if (this.offline) return cached ?? this.offlineError(repo, revision, file);
    let meta: FileMeta;
    try {
      meta = await this.head(repo, revision, file, opts.signal);
    } catch (e) {
      if (cached && !(e instanceof HeadLensError && e.code.startsWith("hub.http"))) return cached; // network down: use the cache
      throw e;
    }
    const repoDir = this.repoDir(repo);
    const blob = join(repoDir, "blobs", meta.etag);
    const pointer = join(repoDir, "snapshots", meta.commit, file);
    if (!SHA.test(revision)) this.writeRef(repo, revision, meta.commit);
    if (!existsSync(blob)) await this.fetchBlob(meta, blob, file, opts);
    if (!existsSync(pointer)) {
      mkdirSync(dirname(pointer), { recursive: true });
      try {
        symlinkSync(relative(dirname(pointer), blob), pointer);
      } catch {
        copyFileSync(blob, pointer); // file systems without symlinks (as huggingface_hub does)
      }
    }
    return pointer;
  }

  private async head(repo: string, revision: string, file: string, signal?: AbortSignal): Promise<FileMeta> {
    const url = `${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${file.split("/").map(encodeURIComponent).join("/")}`;
    let res: Response;
    try {
      // Not following redirects: the hub's own answer carries the commit and the LFS etag.
      res = await this.fetch(url, { method: "HEAD", redirect: "manual", signal });
    } catch (e) {
      throw this.networkError(repo, e);
    }
    if (res.status >= 400) await this.check(res, repo, file);
    const commit = res.headers.get("x-repo-commit") ?? "";
    const etag = (res.headers.get("x-linked-etag") ?? res.headers.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "");
    const size = Number(res.headers.get("x-linked-size") ?? res.headers.get("content-length") ?? NaN);
    if (!SHA.test(commit) || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag) || !Number.isFinite(size)) {
      throw new HeadLensError(`${repo}/${file}: the hub did not send a commit, etag and size (got commit "${commit}", etag "${etag}"); is HF_ENDPOINT a Hugging Face hub?`, "hub.protocol");
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    return { commit, etag, size, url: location ? new URL(location, url).toString() : url };
  }

  private async fetchBlob(meta: FileMeta, blob: string, file: string, opts: DownloadOptions): Promise<void> {
    mkdirSync(dirname(blob), { recursive: true });
    const partial = `${blob}.incomplete`;
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > meta.size) {
      rmSync(partial);
      have = 0;
    }
    const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-` } : {};
    let res: Response;
    try {
      res = await this.fetch(meta.url, { headers, signal: opts.signal }, meta.url.startsWith(this.endpoint));
    } catch (e) {
      throw this.networkError(file, e);
    }
    if (res.status === 200 && have > 0) have = 0; // server ignored Range: start over
    else if (res.status !== 206 && res.status !== 200) await this.check(res, file, file);
    const fh = await open(partial, have > 0 ? "a" : "w");
    const t0 = performance.now();
    let received = have;
    try {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await fh.write(value);
        received += value.length;
        const secs = (performance.now() - t0) / 1000;
        opts.onProgress?.({ file, received, total: meta.size, bytesPerSecond: secs > 0 ? (received - have) / secs : 0 });
      }
    } catch (e) {
      if (opts.signal?.aborted) throw new HeadLensError(`download of ${file} cancelled (kept ${received} bytes to resume later)`, "cancelled");
      throw new HeadLensError(`download of ${file} was interrupted after ${received} of ${meta.size} bytes (${(e as Error).message}); run it again to resume`, "hub.interrupted");
    } finally {
      await fh.close();
    }
    if (received !== meta.size) {
      throw new HeadLensError(`download of ${file} ended after ${received} of ${meta.size} bytes; run it again to resume`, "hub.interrupted");
    }
    const actual = await fileDigest(partial, meta.etag.length === 64 ? "sha256" : "git-sha1", meta.size);
    if (actual !== meta.etag) {
      rmSync(partial, { force: true }); // corrupt bytes are never kept, never used
      throw new HeadLensError(`download of ${file} is corrupt (hash ${actual}, hub says ${meta.etag}); it was deleted, run it again`, "hub.integrity");
    }
    renameSync(partial, blob);
  }

  private fetch(url: string, init: RequestInit, withAuth = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token && withAuth) headers.set("Authorization", `Bearer ${this.token}`);
    headers.set("User-Agent", "head-lens");
    return fetch(url, { ...init, headers });
  }

  private async check(res: Response, repo: string, what: string): Promise<void> {
    if (res.ok) return;
    const hint = res.status === 401 || res.status === 403
      ? `the repository is gated or private: accept its terms on the hub and set HF_TOKEN (or sign in with "Head Lens: Set Hugging Face Token…")`
      : res.status === 404 ? "not found: check the model name and revision" : `the hub answered HTTP ${res.status}`;
    throw new HeadLensError(`${repo}: cannot get ${what}: ${hint}`, `hub.http${res.status}`);
  }

  private networkError(what: string, e: unknown): HeadLensError {
    if ((e as Error)?.name === "AbortError") return new HeadLensError(`download of ${what} cancelled`, "cancelled");
    return new HeadLensError(`${what}: the hub at ${this.endpoint} is unreachable (${(e as Error).message}); check the network, or set HF_HUB_OFFLINE=1 to use only cached files`, "hub.network");
  }

  private offlineError(repo: string, revision: string, what: string): never {
    throw new HeadLensError(`${repo}@${revision}: HF_HUB_OFFLINE is set and ${what} is not in the cache (${this.repoDir(repo)}); download it once with network access`, "hub.offline");
  }

  private readRef(repo: string, revision: string): string | undefined {
    try {
      const sha = readFileSync(join(this.repoDir(repo), "refs", revision), "utf8").trim();
      return SHA.test(sha) ? sha : undefined;
    } catch {
      return undefined;
    }
  }

  private writeRef(repo: string, revision: string, commit: string): void {
    const ref = join(this.repoDir(repo), "refs", revision);
    mkdirSync(dirname(ref), { recursive: true });
    writeFileSync(ref, commit);
  }

  private cachedListing(repo: string, revision: string): string[] | undefined {
    const commit = SHA.test(revision) ? revision : this.readRef(repo, revision);
    if (!commit) return undefined;
    const root = join(this.repoDir(repo), "snapshots", commit);
    if (!existsSync(root)) return undefined;
    const out: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(relative(root, p).split("\\").join("/"));
      }
    };
    walk(root);
    return out;
  }
}

/** sha256 of the file, or git's blob sha1 ("blob <size>\0" + bytes) for non-LFS files. */
async function fileDigest(path: string, kind: "sha256" | "git-sha1", size: number): Promise<string> {
  const h = createHash(kind === "sha256" ? "sha256" : "sha1");
  if (kind === "git-sha1") h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}
