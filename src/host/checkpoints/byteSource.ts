/**
 * Byte ranges of a checkpoint, wherever it is: a local file, or a hub file read with HTTP Range
 * requests (one range per request, as the hub's file server answers). Every range fetched is kept
 * under the file's etag in Head Lens's cache, so a second run, or one resumed after an
 * interruption, reads none of it again; `fetched` counts what this source really read.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HeadLensError } from "../../core/errors";
import type { FileMeta, HubClient } from "../hub/hubClient";
import { readRange } from "../hub/hubRanges";

export interface ByteSource {
  /** The file as the user knows it (a hub path or a file path), for messages. */
  readonly label: string;
  readonly size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Promise<Buffer>;
}

export function fileSource(path: string): ByteSource {
  const size = statSync(path).size;
  return {
    label: path,
    size,
    read: async (start, end) => {
      const fd = openSync(path, "r");
      try {
        const out = Buffer.alloc(end - start);
        let got = 0;
        while (got < out.length) {
          const n = readSync(fd, out, got, out.length - got, start + got);
          if (n === 0) throw new HeadLensError(`${path}: ended at byte ${start + got} of ${size}; was it changed while read?`, "pth.zip");
          got += n;
        }
        return out;
      } finally {
        closeSync(fd);
      }
    },
  };
}

export function hubSource(hub: HubClient, repo: string, revision: string, file: string, meta: FileMeta, signal?: AbortSignal): ByteSource {
  return {
    label: `${repo}/${file}`,
    size: meta.size,
    read: (start, end) => readRange(hub, meta, { repo, revision, file }, start, end, signal),
  };
}

/** A source whose ranges are kept in `dir` (one file per range, written whole then renamed). */
export class CachedSource implements ByteSource {
  fetched = 0;
  constructor(
    private readonly inner: ByteSource,
    private readonly dir: string,
  ) {}

  get label(): string {
    return this.inner.label;
  }

  get size(): number {
    return this.inner.size;
  }

  async read(start: number, end: number): Promise<Buffer> {
    if (start < 0 || end > this.size || start > end)
      throw new HeadLensError(`${this.label}: bytes ${start}–${end} lie outside its ${this.size} bytes; the file is malformed`, "pth.zip");
    if (start === end) return Buffer.alloc(0);
    const path = join(this.dir, `${start}-${end}`);
    if (existsSync(path) && statSync(path).size === end - start) return readFileSync(path);
    const bytes = await this.inner.read(start, end);
    this.fetched += bytes.length;
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
    return bytes;
  }
}
