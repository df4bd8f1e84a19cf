/**
 * A zip read from the spans of it the host fetched with byte ranges (the training timeline reads
 * checkpoints in part): yauzl parses the directory (zip64 and every check included) from the tail,
 * and an entry's data is found through its local header. A read outside the spans ends in NeedBytes,
 * which the plan answers with the range to fetch; the host reads it and asks again.
 */
import { Readable } from "node:stream";
import yauzl from "yauzl";
import { HeadLensError } from "../../core/errors";
import type { ByteSpan, ZipEntryInfo } from "../../protocol/convert";
import { walkZip } from "../zipWalk";

/** Entries read at most: a torch checkpoint holds one per tensor plus a few. */
const MAX_ENTRIES = 100_000;
/** The largest local extra field torch writes (its 64-byte alignment padding) plus a zip64 field. */
export const MAX_LOCAL_EXTRA = 64 + 4 + 20;

export class NeedBytes extends Error {
  constructor(readonly range: [number, number]) {
    super(`needs bytes ${range[0]}–${range[1]}`);
  }
}

function slice(spans: ByteSpan[], start: number, end: number): Uint8Array | undefined {
  const s = spans.find((x) => x.start <= start && end <= x.start + x.bytes.length);
  return s?.bytes.subarray(start - s.start, end - s.start);
}

class SpanReader extends yauzl.RandomAccessReader {
  missing?: NeedBytes;
  constructor(
    private readonly spans: ByteSpan[],
    private readonly size: number,
  ) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    const bytes = slice(this.spans, start, end);
    if (!bytes) {
      this.missing ??= new NeedBytes([start, this.size]); // the rest of the file's end: a directory is read forwards
      return new Readable({ read: () => void 0 }).destroy(this.missing);
    }
    return Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]);
  }
}

export async function zipDirectory(label: string, size: number, spans: ByteSpan[]): Promise<ZipEntryInfo[]> {
  const reader = new SpanReader(spans, size);
  const fail = (what: string) => reader.missing ?? new HeadLensError(`${label}: ${what}`, "pth.zip");
  const out: ZipEntryInfo[] = [];
  await walkZip(
    (options, done) => yauzl.fromRandomAccessReader(reader, size, options, done),
    {
      autoClose: false,
      strictFileNames: true,
      unreadable: (why) => fail(`not a readable zip archive (${why}); not a torch checkpoint?`),
      corrupt: (why) => fail(`corrupt zip directory (${why})`),
      opened: (zip) =>
        zip.entryCount > MAX_ENTRIES ? fail(`holds ${zip.entryCount} entries, more than any checkpoint (${MAX_ENTRIES})`) : undefined,
    },
    (e, walk) => {
      out.push({ name: e.fileName, method: e.compressionMethod, size: e.uncompressedSize, localHeader: e.relativeOffsetOfLocalHeader });
      walk.next();
    },
  );
  return out;
}

/** A stored entry's data from the spans, through its local header; NeedBytes when they lack it. */
export function entryData(e: ZipEntryInfo, spans: ByteSpan[], label: string): Uint8Array {
  const name = Buffer.byteLength(e.name);
  const head = slice(spans, e.localHeader, e.localHeader + 30);
  if (!head) throw new NeedBytes([e.localHeader, e.localHeader + 30 + name + MAX_LOCAL_EXTRA + e.size]);
  const view = Buffer.from(head.buffer, head.byteOffset, 30);
  if (view.readUInt32LE(0) !== 0x04034b50)
    throw new HeadLensError(`${label}: entry ${JSON.stringify(e.name)} has no local header where the directory says`, "pth.zip");
  const start = e.localHeader + 30 + view.readUInt16LE(26) + view.readUInt16LE(28);
  if (e.method !== 0)
    throw new HeadLensError(`${label}: entry ${JSON.stringify(e.name)} is compressed; read it whole (--metrics full)`, "pth.zip");
  return slice(spans, start, start + e.size) ?? fail(new NeedBytes([e.localHeader, start + e.size]));
}

const fail = (e: Error): never => {
  throw e;
};
