/**
 * Named entries of a zip archive (a .nupkg) streamed to files: yauzl reads the directory and
 * inflates each entry (checking its declared size; yauzl checks no CRC-32, the archive's sha256
 * covers that), so a 300 MB library never sits in memory whole. Runs in the conversion worker like
 * every other zip reader (the host bundles hold no zip parser), although the archive's sha256 was
 * checked against the pinned manifest first.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { HeadLensError } from "../../core/errors";
import { walkZip } from "../zipWalk";

/** Writes archive entry `wanted[name]` to `dir/name` for every name; fails naming the entries it lacks. */
export function extractFiles(zipPath: string, wanted: Record<string, string>, dir: string): Promise<void> {
  const byEntry = new Map(Object.entries(wanted).map(([name, entry]) => [entry, name]));
  const fail = (what: string) => new HeadLensError(`${zipPath}: ${what}`, "gpu.package");
  return walkZip(
    (options, done) => yauzl.open(zipPath, options, done),
    {
      unreadable: (why) => fail(`not a readable zip archive (${why})`),
      corrupt: (why) => fail(`corrupt archive (${why})`),
      end: () => (byEntry.size ? fail(`has no ${[...byEntry.keys()].join(", ")}; is it the package this build pins?`) : undefined),
    },
    (entry, walk) => {
      const name = byEntry.get(entry.fileName);
      if (!name) return walk.next();
      byEntry.delete(entry.fileName);
      walk.zip.openReadStream(entry, (e, stream) => {
        if (e || !stream) return walk.fail(fail(`cannot read ${entry.fileName} (${e?.message})`));
        pipeline(stream, createWriteStream(join(dir, name), { mode: 0o755 })).then(
          () => walk.next(),
          (pe: Error) => walk.fail(fail(`cannot extract ${entry.fileName} (${pe.message})`)),
        );
      });
    },
  );
}
