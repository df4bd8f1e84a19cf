/**
 * One file downloaded against a pinned size and sha256: redirects followed to any host (NuGet and
 * its CDN live on different ones), bytes hashed as they arrive into a temporary file beside the
 * destination, and only a file of the right size and hash renamed into place. A short, corrupt or
 * cut-off download is deleted, never kept: the next attempt starts from byte 0.
 *
 * Why not HubClient: that one speaks the Hugging Face protocol (etags, X-Linked-Size, tokens kept on
 * the hub's origin, resume into the HF cache); here the expected bytes are known in advance and
 * nothing but a plain GET is involved.
 */
import { createHash, randomBytes } from "node:crypto";
import { renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { HeadLensError } from "../../core/errors";

export interface Expected {
  sha256: string;
  size: number;
}

export interface DownloadProgress {
  received: number;
  total: number;
}

export interface VerifiedDownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** A connection that sends nothing for this long is given up (default 30 s). */
  stallMs?: number;
}

const MAX_REDIRECTS = 5;
const DEFAULT_STALL_MS = 30_000;

/** Downloads `url` to `dest` (atomically, verified); throws a HeadLensError that says what failed and what to do. */
export async function downloadVerified(url: string, dest: string, expected: Expected, opts: VerifiedDownloadOptions = {}): Promise<void> {
  const temp = `${dest}.part-${randomBytes(6).toString("hex")}`;
  const stall = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stall.signal]) : stall.signal;
  let timer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => stall.abort(new Error(`no data for ${(opts.stallMs ?? DEFAULT_STALL_MS) / 1000} s`)),
      opts.stallMs ?? DEFAULT_STALL_MS,
    );
  };
  armStall();
  let received = 0;
  try {
    const { res, at } = await follow(url, signal);
    const host = new URL(at).host;
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new HeadLensError(
        `${host} answered HTTP ${res.status} for ${at}; the pinned download may have moved — try again later`,
        "gpu.http",
      );
    }
    const length = res.headers.get("content-length");
    const encoded = (res.headers.get("content-encoding") ?? "identity") !== "identity";
    if (length !== null && !encoded && Number(length) !== expected.size) {
      await res.body?.cancel().catch(() => undefined);
      throw new HeadLensError(
        `${at} is ${length} bytes, not the pinned ${expected.size}: not the package this build expects; nothing was kept`,
        "gpu.integrity",
      );
    }
    const hash = createHash("sha256");
    const fh = await open(temp, "w").catch(async (e: unknown) => {
      await res.body?.cancel().catch(() => undefined); // no connection left open behind a failure
      throw e;
    });
    const reader = res.body!.getReader();
    let finished = false;
    // A read pending when the signal aborts can stay pending (seen with undici): cancel it ourselves.
    const onAbort = () => void reader.cancel().catch(() => undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (signal.aborted) throw signal.reason;
        if (done) {
          finished = true;
          break;
        }
        armStall();
        received += value.length;
        if (received > expected.size)
          throw new HeadLensError(`${at} sent more than the pinned ${expected.size} bytes; nothing was kept`, "gpu.integrity");
        hash.update(value);
        await fh.write(value);
        opts.onProgress?.({ received, total: expected.size });
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!finished) await reader.cancel().catch(() => undefined); // too many bytes, a failed write: close the connection
      await fh.close();
    }
    if (received !== expected.size)
      throw new HeadLensError(`the download of ${at} ended after ${received} of ${expected.size} bytes; run it again`, "gpu.interrupted");
    const actual = hash.digest("hex");
    if (actual !== expected.sha256)
      throw new HeadLensError(
        `the download of ${at} is corrupt or not the pinned package (sha256 ${actual}, expected ${expected.sha256}); it was deleted`,
        "gpu.integrity",
      );
    renameSync(temp, dest);
  } catch (e) {
    rmSync(temp, { force: true });
    if (e instanceof HeadLensError) throw e;
    if (opts.signal?.aborted) throw new HeadLensError(`download of ${url} cancelled; nothing was kept`, "cancelled");
    if (stall.signal.aborted)
      throw new HeadLensError(
        `the download of ${url} stalled after ${received} bytes (${(stall.signal.reason as Error).message}); run it again`,
        "gpu.interrupted",
      );
    throw networkError(url, received, expected.size, e);
  } finally {
    clearTimeout(timer);
  }
}

/** GET with redirects followed by hand (bounded), to any host: no credentials are ever sent. */
async function follow(url: string, signal: AbortSignal): Promise<{ res: Response; at: string }> {
  for (let hop = 0; ; hop++) {
    const res = await fetch(url, { signal, redirect: "manual", headers: { "User-Agent": "head-lens", "Accept-Encoding": "identity" } });
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (!location) return { res, at: url };
    await res.body?.cancel().catch(() => undefined);
    if (hop === MAX_REDIRECTS) throw new HeadLensError(`${url}: more than ${MAX_REDIRECTS} redirects; try again later`, "gpu.http");
    url = new URL(location, url).href;
  }
}

/** undici's "fetch failed" says nothing; its cause's code does (ECONNREFUSED, ENOTFOUND, ECONNRESET…). */
function networkError(url: string, received: number, total: number, e: unknown): HeadLensError {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (e as Error)?.message ?? String(e);
  const host = new URL(url).host;
  if (received === 0 && /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT/.test(why))
    return new HeadLensError(
      `cannot reach ${host} (${why}): this computer looks offline or a firewall blocks it; ` +
        "connect and try again, or install the provider by hand (docs/gpu.md)",
      "gpu.offline",
    );
  return new HeadLensError(
    `the download from ${host} was interrupted after ${received} of ${total} bytes (${why}); run it again`,
    "gpu.interrupted",
  );
}
