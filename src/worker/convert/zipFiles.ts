/**
 * Named entries of a zip archive (a .nupkg) streamed to files: yauzl reads the directory and
 * inflates each entry (checking its declared size; yauzl checks no CRC-32, the archive's sha256
 * covers that), so a 300 MB library never sits in memory whole. Runs in the conversion worker like every other zip reader (the host bundles hold
 * no zip parser), although the archive's sha256 was checked against the pinned manifest first.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { HeadLensError } from "../../core/errors";

/** Writes archive entry `wanted[name]` to `dir/name` for every name; fails naming the entries it lacks. */
export function extractFiles(zipPath: string, wanted: Record<string, string>, dir: string): Promise<void> {
  const byEntry = new Map(Object.entries(wanted).map(([name, entry]) => [entry, name]));
  const fail = (what: string) => new HeadLensError(`${zipPath}: ${what}`, "gpu.package");
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(fail(`not a readable zip archive (${err?.message ?? "unknown error"})`));
      let failed = false;
      const stop = (e: HeadLensError) => {
        if (failed) return;
        failed = true;
        zip.close();
        reject(e);
      };
      zip.on("error", (e: Error) => stop(fail(`corrupt archive (${e.message})`)));
      zip.on("end", () => {
        if (failed) return;
        if (byEntry.size) return stop(fail(`has no ${[...byEntry.keys()].join(", ")}; is it the package this build pins?`));
        resolve();
      });
      zip.on("entry", (entry: yauzl.Entry) => {
        const name = byEntry.get(entry.fileName);
        if (!name) return zip.readEntry();
        byEntry.delete(entry.fileName);
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return stop(fail(`cannot read ${entry.fileName} (${e?.message})`));
          pipeline(stream, createWriteStream(join(dir, name), { mode: 0o755 })).then(
            () => zip.readEntry(),
            (pe: Error) => stop(fail(`cannot extract ${entry.fileName} (${pe.message})`)),
          );
        });
      });
      zip.readEntry();
    });
  });
}
