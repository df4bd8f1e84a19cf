/**
 * installed.json, the record an install of the CUDA provider carries in its folder: the package it
 * was installed from (the manifest's identity then: the pinned package, or an offline mirror's named
 * by HEAD_LENS_CUDA_MANIFEST) and every file of the folder with its size and sha256. It is written
 * into the temporary folder before that folder is renamed into place, so record and files appear
 * together; a folder whose record does not verify is never used.
 *
 * Checking costs one stat per file (≈ 100 files): each file's stamp (size, mtime, ctime, inode) was
 * recorded with its hash, and only a file whose stamp changed (the folder was copied, a file touched
 * or rewritten) is hashed again (≈ 0.2 s per 300 MB, once: the new stamps are recorded) and refused
 * if its bytes differ. An unprivileged process cannot set ctime back, so a library rewritten after the
 * install is always hashed again. What no record can stop: whoever can write this folder can write a
 * matching record too — but they can already run code as this user (the extension's own folder, the
 * shell's startup files). The record catches damage and mix-ups; the pinned sha256 guards the download.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative, sep } from "node:path";

export const RECORD_FILE = "installed.json";
const FORMAT = 2;

/** Which package an install came from (a manifest's entry for one platform, without its file list). */
export interface PackageIdentity {
  url: string;
  sha256: string;
  size: number;
}

export interface InstallRecord {
  format: number;
  ortVersion: string;
  platform: string;
  source: PackageIdentity;
  /** Every file of the install ("/"-separated path inside it) → its size, sha256 and stat stamp when last verified. */
  files: Record<string, { size: number; sha256: string; stamp: string }>;
}

export type RecordCheck = { record: InstallRecord; problem?: undefined } | { record?: undefined; problem: string };

/** Hashes every file under `dir` and writes the record there (last, after every file is in place). */
export async function writeRecord(dir: string, about: Omit<InstallRecord, "format" | "files">): Promise<void> {
  const files: InstallRecord["files"] = {};
  for (const path of filesUnder(dir)) {
    const sha256 = await hashFile(path);
    const s = statSync(path, { bigint: true });
    files[relative(dir, path).split(sep).join("/")] = { size: Number(s.size), sha256, stamp: stampOf(s) };
  }
  writeFileSync(join(dir, RECORD_FILE), JSON.stringify({ format: FORMAT, ...about, files } satisfies InstallRecord, null, 1));
}

/**
 * The record of the install in `dir` if it is whole: every recorded file there with its recorded bytes,
 * no other file, and `required` (paths inside dir) among them. Otherwise what is wrong, in words.
 */
export function checkRecord(dir: string, required: readonly string[]): RecordCheck {
  let record: InstallRecord;
  try {
    record = JSON.parse(readFileSync(join(dir, RECORD_FILE), "utf8")) as InstallRecord;
  } catch {
    return { problem: `it has no readable ${RECORD_FILE} (an interrupted or older install)` };
  }
  if (record?.format !== FORMAT || typeof record.files !== "object" || record.files === null || typeof record.source?.sha256 !== "string")
    return { problem: `its ${RECORD_FILE} is from another version of Head Lens` };
  // Paths come from a file anyone with access to the folder can edit: never let one lead outside it.
  const outside = Object.keys(record.files).find((path) => path.split("/").some((part) => part === "" || part === "." || part === ".."));
  if (outside) return { problem: `its ${RECORD_FILE} names ${JSON.stringify(outside)}, not a path inside the install` };
  const missing = required.find((path) => !(path in record.files));
  if (missing) return { problem: `${missing} is not part of it` };
  let restamped = false;
  for (const [path, want] of Object.entries(record.files)) {
    const full = join(dir, ...path.split("/"));
    const s = statSync(full, { bigint: true, throwIfNoEntry: false });
    if (!s?.isFile()) return { problem: `${path} is missing` };
    if (Number(s.size) !== want.size) return { problem: `${path} is ${s.size} bytes, not the ${want.size} installed` };
    if (stampOf(s) === want.stamp) continue;
    if (hashFileSync(full) !== want.sha256) return { problem: `${path} was changed after the install` };
    want.stamp = stampOf(s);
    restamped = true;
  }
  // The record itself, and a concurrent check's new record about to be renamed over it, are the only other files.
  const extra = filesUnder(dir)
    .map((full) => relative(dir, full).split(sep).join("/"))
    .find((path) => !(path in record.files) && !path.startsWith(RECORD_FILE));
  if (extra) return { problem: `${extra} was not installed by Head Lens` };
  if (restamped) saveQuietly(dir, record);
  return { record };
}

/** The files' new stamps, so the next check is a stat again; a read-only folder is hashed on each check instead. */
function saveQuietly(dir: string, record: InstallRecord): void {
  const temp = join(dir, `${RECORD_FILE}.${randomBytes(6).toString("hex")}`);
  try {
    writeFileSync(temp, JSON.stringify(record, null, 1));
    renameSync(temp, join(dir, RECORD_FILE));
  } catch {
    rmSync(temp, { force: true });
  }
}

function stampOf(s: { size: bigint; mtimeNs: bigint; ctimeNs: bigint; ino: bigint }): string {
  return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : [path];
  });
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Synchronous: the check runs where the engine's providers are chosen (a synchronous step), and rarely hashes at all. */
function hashFileSync(path: string): string {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, buf)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
