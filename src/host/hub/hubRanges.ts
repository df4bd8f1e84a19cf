/**
 * Byte ranges of a hub file, one HTTP Range request each, sent where its bytes are (the CDN for LFS
 * files, without the token, as every download): the answer must be a 206 for exactly the bytes asked
 * for, or the read fails with one line. A signed CDN URL that expired is renewed once by a fresh HEAD,
 * which must name the same file (same etag): bytes of two versions are never mixed.
 */
import { HeadLensError } from "../../core/errors";
import type { FileMeta, HubClient, Subject } from "./hubClient";
import { httpError, networkError } from "./hubErrors";

export async function readRange(
  hub: HubClient,
  meta: FileMeta,
  s: Required<Subject>,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const where = `${s.repo}/${s.file}`;
  for (let attempt = 0; ; attempt++) {
    const headers = { "Accept-Encoding": "identity", Range: `bytes=${start}-${end - 1}` };
    let res: Response, at: string;
    try {
      ({ res, url: at } = await hub.send(meta.url, { headers, signal }, false));
    } catch (e) {
      throw networkError(s.file, e, hub.endpoint);
    }
    const range = /^bytes (\d+)-(\d+)\//.exec(res.headers.get("content-range") ?? "");
    if (res.status === 206 && Number(range?.[1]) === start && Number(range?.[2]) === end - 1) {
      let body: Buffer;
      try {
        body = Buffer.from(await res.arrayBuffer());
      } catch (e) {
        throw networkError(s.file, e, hub.endpoint); // a dropped connection or a cancel, said as such
      }
      if (body.length === end - start) return body;
      throw new HeadLensError(`${where}: bytes ${start}–${end} came back short (${body.length}); run it again`, "hub.interrupted");
    }
    await res.body?.cancel();
    if (res.status < 300) {
      const got = res.status === 206 ? `bytes ${res.headers.get("content-range")}` : `HTTP ${res.status}, not a range`;
      throw new HeadLensError(
        `${where}: asked for bytes ${start}–${end - 1}, the server answered ${got}; it cannot be read in part`,
        "hub.protocol",
      );
    }
    const error = await httpError(res, s, hub.errorContext, new URL(at).origin !== new URL(hub.endpoint).origin);
    if (error.code !== "hub.linkRefused" || attempt > 0) throw error;
    const fresh = await hub.fileMeta(s.repo, s.revision, s.file, signal);
    if (fresh.etag !== meta.etag) throw new HeadLensError(`${where} changed on the hub while it was read; run it again`, "hub.changed");
    Object.assign(meta, fresh);
  }
}
