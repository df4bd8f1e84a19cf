/**
 * A Hugging Face hub client that downloads into the standard HF cache, so files the user already
 * fetched with Python are reused and ours are reusable by Python:
 *   <cache>/models--owner--name/blobs/<etag>, snapshots/<commit>/<file> -> ../../blobs/<etag>,
 *   refs/<revision> = <commit>.
 * Metadata comes from HEAD /{repo}/resolve/{rev}/{file} as huggingface_hub's get_hf_file_metadata
 * reads it: same-origin redirects are followed (git files answer a relative 307 to
 * /api/resolve-cache/…), a cross-origin one (LFS files: 302 to a signed CDN URL) is not, and the
 * size and etag come from X-Linked-Size / X-Linked-Etag or the final answer, never from a
 * redirect's Content-Length (that is the length of its "Redirecting to …" text).
 * Downloads resume with HTTP Range into `<blob>.incomplete`, are verified against the hub's etag
 * (sha256 for LFS files, git blob sha1 otherwise) and only then renamed into place. The token goes
 * to the hub's own origin only, never to the CDN.
 *
 * Why not @huggingface/hub (2.17.5): its downloadFileToCacheDir writes the same cache layout but
 * streams each file from byte 0 (no Range resume), reports no byte progress, takes no AbortSignal,
 * checks no hash and writes no refs/<revision>; it would also add @huggingface/tasks and a wasm
 * chunker (~5.7 MB unpacked). Wrapping all that around it would not be smaller than this file.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";
import { HeadLensError } from "../../core/errors";
import { httpError, networkError, Subject as ErrorSubject } from "./hubErrors";

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

export interface FileMeta {
  commit: string;
  etag: string;
  size: number;
  /** Where the bytes are: the final same-origin URL, or the CDN URL of a cross-origin redirect. */
  url: string;
}

/** Which repo, revision and file a request was about, for error messages. */
export type Subject = ErrorSubject & { revision: string };

const SHA = /^[0-9a-f]{40}$/;
const ETAG = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** huggingface_hub follows relative redirects without a bound; a loop must still end. */
const MAX_REDIRECTS = 5;
const isRedirect = (status: number) => status >= 300 && status < 400;

export class HubClient {
  readonly endpoint: string;
  readonly cacheDir: string;
  readonly offline: boolean;
  private readonly token?: string;
  private readonly origin: string;
  readonly errorContext: { endpoint: string; hasToken: boolean };

  constructor(opts: HubOptions = hubOptionsFromEnv()) {
    this.endpoint = (opts.endpoint ?? "https://huggingface.co").replace(/\/+$/, "");
    this.origin = new URL(this.endpoint).origin;
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
    this.offline = opts.offline ?? false;
    this.token = opts.token;
    this.errorContext = { endpoint: this.endpoint, hasToken: !!this.token };
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
      ({ res } = await this.send(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`, { signal }, true));
    } catch (e) {
      const cached = this.cachedListing(repo, revision);
      if (cached && !(e instanceof HeadLensError)) return cached;
      throw networkError(repo, e, this.endpoint);
    }
    if (!res.ok) throw await httpError(res, { repo, revision }, this.errorContext);
    const body = (await res.json()) as { sha?: string; siblings?: { rfilename: string }[] };
    if (!body.siblings) throw new HeadLensError(`${repo}: the hub's answer has no file list`, "hub.protocol");
    if (body.sha && SHA.test(body.sha)) this.writeRef(repo, revision, body.sha);
    return body.siblings.map((s) => s.rfilename);
  }

  /** A file's size in bytes, from the hub's metadata (no download). */
  async fileSize(repo: string, revision: string, file: string, signal?: AbortSignal): Promise<number> {
    return (await this.head({ repo, revision, file }, signal)).size;
  }

  /** Downloads (or reuses) a file; returns its snapshot path. */
  async download(repo: string, revision: string, file: string, opts: DownloadOptions = {}): Promise<string> {
    const cached = this.cachedFile(repo, revision, file);
    if (this.offline) return cached ?? this.offlineError(repo, revision, file);
    const subject = { repo, revision, file };
    let meta: FileMeta;
    try {
      meta = await this.head(subject, opts.signal);
    } catch (e) {
      if (cached && !(e instanceof HeadLensError && e.code.startsWith("hub.http"))) return cached; // network down: use the cache
      throw e;
    }
    const repoDir = this.repoDir(repo);
    if (!SHA.test(revision)) this.writeRef(repo, revision, meta.commit);
    for (let attempt = 0; !existsSync(join(repoDir, "blobs", meta.etag)); attempt++) {
      try {
        await this.fetchBlob(meta, join(repoDir, "blobs", meta.etag), subject, opts);
      } catch (e) {
        // Signed CDN URLs expire: a fresh HEAD hands out a new one.
        if (!(e instanceof HeadLensError && e.code === "hub.linkRefused") || attempt > 0) throw e;
        meta = await this.head(subject, opts.signal);
      }
    }
    const blob = join(repoDir, "blobs", meta.etag);
    const pointer = join(repoDir, "snapshots", meta.commit, file);
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

  /** A file's commit, etag, size and where its bytes are (one HEAD, no download). */
  fileMeta(repo: string, revision: string, file: string, signal?: AbortSignal): Promise<FileMeta> {
    return this.head({ repo, revision, file }, signal);
  }

  private async head(s: Required<Subject>, signal?: AbortSignal): Promise<FileMeta> {
    const url = `${this.endpoint}/${s.repo}/resolve/${encodeURIComponent(s.revision)}/${s.file.split("/").map(encodeURIComponent).join("/")}`;
    let answer: { res: Response; url: string; commit?: string };
    try {
      // identity: a compressed answer has no Content-Length of the file (huggingface_hub does the same).
      answer = await this.send(url, { method: "HEAD", headers: { "Accept-Encoding": "identity" }, signal }, true);
    } catch (e) {
      throw networkError(`${s.repo}/${s.file}`, e, this.endpoint);
    }
    const { res } = answer;
    if (res.status >= 400) throw await httpError(res, s, this.errorContext);
    const h = res.headers;
    const commit = h.get("x-repo-commit") ?? answer.commit ?? "";
    const etag = (h.get("x-linked-etag") ?? h.get("etag") ?? "").replace(/^W\//, "").replace(/"/g, "");
    const encoded = (h.get("content-encoding") ?? "identity") !== "identity";
    const length = isRedirect(res.status) || encoded ? null : h.get("content-length"); // a redirect's length is its own text
    const size = Number(h.get("x-linked-size") ?? length ?? NaN);
    const where = `${s.repo}/${s.file}: the hub's answer (HTTP ${res.status} from ${new URL(answer.url).pathname})`;
    if (!SHA.test(commit))
      throw new HeadLensError(`${where} has no X-Repo-Commit; is HF_ENDPOINT (${this.endpoint}) a Hugging Face hub?`, "hub.protocol");
    if (!ETAG.test(etag)) throw new HeadLensError(`${where} has no usable etag (got "${etag}")`, "hub.protocol");
    if (!Number.isSafeInteger(size) || size < 0)
      throw new HeadLensError(`${where} gives no file size (X-Linked-Size or an uncompressed Content-Length)`, "hub.protocol");
    const location = isRedirect(res.status) ? h.get("location") : null;
    return { commit, etag, size, url: location ? new URL(location, answer.url).href : answer.url };
  }

  private async fetchBlob(meta: FileMeta, blob: string, s: Required<Subject>, opts: DownloadOptions): Promise<void> {
    const file = s.file;
    mkdirSync(dirname(blob), { recursive: true });
    const partial = `${blob}.incomplete`;
    let have = existsSync(partial) ? statSync(partial).size : 0;
    if (have > meta.size) {
      rmSync(partial);
      have = 0;
    }
    if (have < meta.size || meta.size === 0) have = await this.fetchInto(meta, partial, s, have, opts);
    if (have !== meta.size) {
      throw new HeadLensError(`download of ${file} ended after ${have} of ${meta.size} bytes; run it again to resume`, "hub.interrupted");
    }
    const actual = await fileDigest(partial, meta.etag.length === 64 ? "sha256" : "git-sha1", meta.size);
    if (actual !== meta.etag) {
      rmSync(partial, { force: true }); // corrupt bytes are never kept, never used
      throw new HeadLensError(
        `download of ${file} is corrupt (hash ${actual}, hub says ${meta.etag}); it was deleted, run it again`,
        "hub.integrity",
      );
    }
    renameSync(partial, blob);
  }

  /** Appends the bytes after `have` to `partial` (or rewrites it when the server sends it all); returns its size. */
  private async fetchInto(meta: FileMeta, partial: string, s: Required<Subject>, have: number, opts: DownloadOptions): Promise<number> {
    const file = s.file;
    // identity: Range applies to the encoded bytes, and a gzip answer ignores Range anyway.
    const headers: Record<string, string> = { "Accept-Encoding": "identity", ...(have > 0 ? { Range: `bytes=${have}-` } : {}) };
    let res: Response, at: string;
    try {
      ({ res, url: at } = await this.send(meta.url, { headers, signal: opts.signal }, false));
    } catch (e) {
      throw networkError(file, e, this.endpoint);
    }
    const from = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
    if (have > 0 && (res.status === 416 || (res.status === 206 && Number(from?.[1]) !== have))) {
      await res.body?.cancel(); // not the bytes we asked for: start over
      rmSync(partial, { force: true });
      return this.fetchInto(meta, partial, s, 0, opts);
    }
    if (res.status === 200)
      have = 0; // the server ignored Range (gzip does): the whole file follows
    else if (res.status !== 206) throw await httpError(res, s, this.errorContext, new URL(at).origin !== this.origin);
    const fh = await open(partial, have > 0 ? "a" : "w");
    const t0 = performance.now();
    let received = have;
    const reader = res.body!.getReader();
    // A read pending when the signal aborts can stay pending (seen with undici): cancel it ourselves.
    const onAbort = () => void reader.cancel().catch(() => undefined);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
        const { done, value } = await reader.read();
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
        if (done) break;
        await fh.write(value);
        received += value.length;
        const secs = (performance.now() - t0) / 1000;
        opts.onProgress?.({ file, received, total: meta.size, bytesPerSecond: secs > 0 ? (received - have) / secs : 0 });
      }
    } catch (e) {
      if (opts.signal?.aborted)
        throw new HeadLensError(`download of ${file} cancelled (kept ${received} bytes to resume later)`, "cancelled");
      throw new HeadLensError(
        `download of ${file} was interrupted after ${received} of ${meta.size} bytes (${(e as Error).message}); run it again to resume`,
        "hub.interrupted",
      );
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      await fh.close();
    }
    return received;
  }

  /**
   * Follows redirects by hand: within the hub's origin always (with the token), to another origin
   * only for downloads and without the token; `stopAtCdn` returns a cross-origin redirect (or one
   * carrying X-Linked-Etag) as the answer. Also reports the first X-Repo-Commit seen on the way.
   */
  async send(url: string, init: RequestInit, stopAtCdn: boolean): Promise<{ res: Response; url: string; commit?: string }> {
    let commit: string | undefined;
    for (let hop = 0; ; hop++) {
      const own = new URL(url).origin === this.origin;
      const headers = new Headers(init.headers);
      if (this.token && own) headers.set("Authorization", `Bearer ${this.token}`);
      headers.set("User-Agent", "head-lens");
      const res = await fetch(url, { ...init, headers, redirect: "manual" });
      commit ??= res.headers.get("x-repo-commit") ?? undefined;
      const location = isRedirect(res.status) ? res.headers.get("location") : null;
      if (!location) return { res, url, commit };
      const next = new URL(location, url).href;
      if (stopAtCdn && (new URL(next).origin !== this.origin || res.headers.has("x-linked-etag"))) return { res, url, commit };
      await res.body?.cancel();
      if (hop === MAX_REDIRECTS)
        throw new HeadLensError(
          `${url}: more than ${MAX_REDIRECTS} redirects; is HF_ENDPOINT (${this.endpoint}) a Hugging Face hub?`,
          "hub.protocol",
        );
      url = next;
    }
  }

  private offlineError(repo: string, revision: string, what: string): never {
    throw new HeadLensError(
      `${repo}@${revision}: HF_HUB_OFFLINE is set and ${what} is not in the cache (${this.repoDir(repo)}); download it once with network access`,
      "hub.offline",
    );
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
