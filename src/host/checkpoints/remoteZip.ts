/**
 * A zip's directory read through byte ranges: yauzl parses it (zip64 and every check included)
 * from a RandomAccessReader whose reads come from a ByteSource in windows of at least 64 KiB, so
 * the end record and a checkpoint's central directory cost one or two requests, not two per entry.
 */
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { HeadLensError } from "../../core/errors";
import type { ByteSource } from "./byteSource";

/** Entries read at most: a torch checkpoint holds one per tensor plus a few. */
const MAX_ENTRIES = 100_000;
const WINDOW = 64 * 1024;

export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeader: number;
}

class WindowedReader extends yauzl.RandomAccessReader {
  private readonly windows: { start: number; bytes: Buffer }[] = [];
  constructor(private readonly source: ByteSource) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return Readable.from(
      (async function* (self: WindowedReader) {
        yield await self.bytes(start, end);
      })(this),
    );
  }

  private async bytes(start: number, end: number): Promise<Buffer> {
    const hit = this.windows.find((w) => w.start <= start && end <= w.start + w.bytes.length);
    if (hit) return hit.bytes.subarray(start - hit.start, end - hit.start);
    const from = Math.max(0, Math.min(start, end - WINDOW));
    const to = Math.min(this.source.size, Math.max(end, from + WINDOW));
    const bytes = await this.source.read(from, to);
    this.windows.push({ start: from, bytes });
    return bytes.subarray(start - from, end - from);
  }
}

export function zipDirectory(source: ByteSource): Promise<ZipEntryInfo[]> {
  const fail = (what: string) => new HeadLensError(`${source.label}: ${what}`, "pth.zip");
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new WindowedReader(source),
      source.size,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
      (err, zip) => {
        if (err || !zip) return reject(fail(`not a readable zip archive (${err?.message ?? "unknown error"}); not a torch checkpoint?`));
        if (zip.entryCount > MAX_ENTRIES) return reject(fail(`holds ${zip.entryCount} entries, more than any checkpoint (${MAX_ENTRIES})`));
        const out: ZipEntryInfo[] = [];
        zip.on("error", (e: Error) => reject(fail(`corrupt zip directory (${e.message})`)));
        zip.on("end", () => resolve(out));
        zip.on("entry", (e: yauzl.Entry) => {
          out.push({
            name: e.fileName,
            method: e.compressionMethod,
            compressedSize: e.compressedSize,
            size: e.uncompressedSize,
            localHeader: e.relativeOffsetOfLocalHeader,
          });
          zip.readEntry();
        });
        zip.readEntry();
      },
    );
  });
}

/** The largest local extra field torch writes: its alignment padding to 64 bytes, plus the field's header. */
const MAX_LOCAL_EXTRA = 64 + 4 + 20;

/** Where an entry's local header + data lie, to be read in one request with the ranges wanted of it. */
export function entrySpan(e: ZipEntryInfo, dataEnd: number): [number, number] {
  return [e.localHeader, e.localHeader + 30 + Buffer.byteLength(e.name) + MAX_LOCAL_EXTRA + dataEnd];
}

/** The entry's data offset inside `buf` (which starts at the entry's local header), checked. */
export function dataStart(e: ZipEntryInfo, buf: Buffer, label: string): number {
  if (buf.length < 30 || buf.readUInt32LE(0) !== 0x04034b50)
    throw new HeadLensError(`${label}: entry ${JSON.stringify(e.name)} has no local header where the directory says`, "pth.zip");
  const start = 30 + buf.readUInt16LE(26) + buf.readUInt16LE(28);
  if (buf.toString("utf8", 30, 30 + buf.readUInt16LE(26)) !== e.name)
    throw new HeadLensError(`${label}: entry ${JSON.stringify(e.name)}'s local header names another file`, "pth.zip");
  return start;
}
