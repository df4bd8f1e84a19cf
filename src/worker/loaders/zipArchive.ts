/**
 * The zip container of a torch checkpoint, read without copying and bounded by the file's size:
 * stored entries (all torch.save writes) are views of the file's bytes; deflated entries (a
 * re-zipped checkpoint) may inflate to at most INFLATE_FACTOR × the file's size in total, checked
 * against their declared sizes before inflating, so a zip bomb is refused up front.
 */
import { inflateRawSync } from "node:zlib";
import yauzl from "yauzl";
import { HeadLensError } from "../../core/errors";
import { walkZip } from "../zipWalk";

/** Floats barely compress (≈ 0.9×); 4× admits any honest re-zipped checkpoint. */
const INFLATE_FACTOR = 4;
const STORED = 0;
const DEFLATED = 8;

function zipError(label: string, what: string): HeadLensError {
  return new HeadLensError(`${label}: ${what}`, "pth.zip");
}

export async function readZipEntries(bytes: Buffer, label: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  let inflateBudget = INFLATE_FACTOR * bytes.length;
  await walkZip(
    (options, done) => yauzl.fromBuffer(bytes, options, done),
    {
      strictFileNames: true,
      unreadable: (why) => zipError(label, `not a readable zip archive (${why}); the file may be truncated`),
      corrupt: (why) => zipError(label, `corrupt zip archive (${why})`),
    },
    (entry, walk) => {
      const name = entry.fileName;
      if (out.has(name)) return walk.fail(zipError(label, `holds two entries named ${JSON.stringify(name)}`));
      if (entry.isEncrypted()) return walk.fail(zipError(label, `entry ${JSON.stringify(name)} is encrypted`));
      if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
        return walk.fail(
          zipError(
            label,
            `entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}; torch.save writes uncompressed archives`,
          ),
        );
      }
      if (entry.compressionMethod === DEFLATED) {
        inflateBudget -= entry.uncompressedSize;
        if (inflateBudget < 0) {
          return walk.fail(
            zipError(
              label,
              `compressed entries would inflate to more than ${INFLATE_FACTOR}× the archive's ${bytes.length} bytes (a zip bomb?); ` +
                "torch.save writes uncompressed archives",
            ),
          );
        }
      }
      walk.zip.readLocalFileHeader(entry, { minimal: true }, (e, header) => {
        if (walk.failed) return;
        if (e || !header)
          return walk.fail(
            zipError(label, `cannot read entry ${JSON.stringify(name)} (${e?.message ?? "no header"}); the file may be truncated`),
          );
        const raw = bytes.subarray(header.fileDataStart, header.fileDataStart + entry.compressedSize);
        try {
          out.set(name, entry.compressionMethod === STORED ? raw : inflate(raw, entry.uncompressedSize, name, label));
        } catch (ie) {
          return walk.fail(
            ie instanceof HeadLensError ? ie : zipError(label, `cannot inflate entry ${JSON.stringify(name)} (${(ie as Error).message})`),
          );
        }
        walk.next();
      });
    },
  );
  return out;
}

function inflate(raw: Uint8Array, declared: number, name: string, label: string): Uint8Array {
  const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, declared) });
  if (out.length !== declared)
    throw zipError(label, `entry ${JSON.stringify(name)} inflates to ${out.length} bytes but declares ${declared}`);
  return out;
}
