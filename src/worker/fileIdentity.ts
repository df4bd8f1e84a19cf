/**
 * Content hashes of model and prior files: sha256, recomputed only when a file's size, mtime, ctime
 * or inode changes (a 200 MB checkpoint is hashed once, not on every request).
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync, statSync } from "node:fs";

const cache = new Map<string, { stamp: string; hash: string }>();
const CHUNK = 8 * 1024 * 1024;

export function fileStamp(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}` : "missing";
}

/** sha256 of the file's bytes (hex); undefined when it does not exist. */
export function fileHash(path: string): string | undefined {
  const stamp = fileStamp(path);
  if (stamp === "missing") return undefined;
  const hit = cache.get(path);
  if (hit && hit.stamp === stamp) return hit.hash;
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  const hash = h.digest("hex");
  cache.set(path, { stamp, hash });
  return hash;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
