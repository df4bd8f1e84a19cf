/**
 * One walk over a zip archive's entries with yauzl, shared by the workers' zip readers (a .pth's
 * container, a .nupkg's libraries, the directory of a checkpoint fetched in part): entries read one at
 * a time, declared sizes validated, and exactly one outcome — the first failure closes the archive and
 * rejects, whatever yauzl emits after it is ignored. Each caller keeps its own words for its errors.
 */
import yauzl from "yauzl";

/** Opens the archive (a file, a buffer, a random-access reader) with the options the walk needs. */
export type ZipOpener = (options: yauzl.Options, done: (err: Error | null, zip?: yauzl.ZipFile) => void) => void;

export interface ZipWalkOptions {
  strictFileNames?: boolean;
  /** false for a reader the caller closes itself (yauzl's default: close after the last entry). */
  autoClose?: boolean;
  /** The caller's error for an archive yauzl cannot open. */
  unreadable(reason: string): Error;
  /** The caller's error for an archive yauzl finds corrupt while reading it. */
  corrupt(reason: string): Error;
  /** Checked once the archive is open, before any entry (its entry count, say). */
  opened?(zip: yauzl.ZipFile): Error | undefined;
  /** Checked after the last entry (entries the caller expected and did not see). */
  end?(): Error | undefined;
}

export interface ZipWalk {
  readonly zip: yauzl.ZipFile;
  /** Asks for the next entry (also from inside a callback of the current one). */
  next(): void;
  /** Ends the walk with this error (once; later calls are ignored). */
  fail(e: Error): void;
  /** Whether the walk has failed already (a late callback then does nothing). */
  readonly failed: boolean;
}

export function walkZip(open: ZipOpener, opts: ZipWalkOptions, onEntry: (entry: yauzl.Entry, walk: ZipWalk) => void): Promise<void> {
  const options: yauzl.Options = { lazyEntries: true, validateEntrySizes: true, strictFileNames: opts.strictFileNames ?? false };
  if (opts.autoClose !== undefined) options.autoClose = opts.autoClose;
  return new Promise((resolve, reject) => {
    open(options, (err, zip) => {
      if (err || !zip) return reject(opts.unreadable(err?.message ?? "unknown error"));
      let failed = false;
      const walk: ZipWalk = {
        zip,
        next: () => zip.readEntry(),
        fail: (e) => {
          if (failed) return;
          failed = true;
          zip.close();
          reject(e);
        },
        get failed() {
          return failed;
        },
      };
      zip.on("error", (e: Error) => walk.fail(opts.corrupt(e.message)));
      zip.on("end", () => {
        if (failed) return;
        const late = opts.end?.();
        if (late) return walk.fail(late);
        resolve();
      });
      zip.on("entry", (entry: yauzl.Entry) => {
        if (!failed) onEntry(entry, walk);
      });
      const refused = opts.opened?.(zip);
      if (refused) return walk.fail(refused);
      zip.readEntry();
    });
  });
}
