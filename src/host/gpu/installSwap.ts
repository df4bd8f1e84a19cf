/**
 * The last step of a CUDA provider install: the finished temporary folder takes the install's place.
 * Two installs can finish at once (two VS Code windows, a window and the CLI), so the step runs under
 * a lock shared by every process (a folder created with mkdir, which only one can create), and inside
 * it a valid install already in place always wins: the later one drops its own copy and uses it. An
 * invalid one (damaged, an older version) is renamed aside before the new one is renamed in, and
 * deleted after the lock is released, so no other installer ever sees a half-deleted folder.
 *
 * The locked step is a few renames (milliseconds). A lock whose owner process is gone (same host), or
 * that is older than a minute, was left by a crash and is broken (renamed away: only one process can).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { errorMessage, HeadLensError } from "../../core/errors";

const STALE_MS = 60_000;
/** Longer than STALE_MS, so that a waiter outlives a dead owner's lock. */
const WAIT_MS = 90_000;

/** Prefix of the folders an install leaves beside the root while it works (temporary copies, replaced installs). */
export const WORK_PREFIX = ".install-";

/**
 * Puts `temp` at `root` unless `valid()` finds a whole install there already (then `temp` is deleted).
 * Returns whether `temp` became the install.
 */
export async function putInPlace(temp: string, root: string, valid: () => boolean): Promise<boolean> {
  const lock = `${root}.lock`;
  await acquire(lock);
  let aside: string | undefined;
  try {
    if (valid()) {
      rmSync(temp, { recursive: true, force: true });
      return false;
    }
    aside = join(dirname(root), `${WORK_PREFIX}old-${basename(root)}-${randomBytes(6).toString("hex")}`);
    try {
      renameSync(root, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      aside = undefined; // nothing was there
    }
    renameSync(temp, root);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
    try {
      if (aside) rmSync(aside, { recursive: true, force: true });
    } catch {
      // the install is in place; what is left of the old one goes with the next install's clean-up
    }
  }
}

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "owner.json"), JSON.stringify({ pid: process.pid, host: hostname() }));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new HeadLensError(
          `cannot create the install lock ${lock} (${errorMessage(e)}); check that folder's permissions`,
          "gpu.install",
        );
    }
    if (stale(lock)) {
      const away = `${lock}.stale-${randomBytes(6).toString("hex")}`;
      try {
        renameSync(lock, away); // only one process succeeds; the others find the lock gone or new
        rmSync(away, { recursive: true, force: true });
      } catch {
        // another process broke it first
      }
      continue;
    }
    if (Date.now() > deadline)
      throw new HeadLensError(
        `another Head Lens install has held ${lock} for over ${WAIT_MS / 1000} s; if no other window or CLI is installing, delete it and try again`,
        "gpu.install",
      );
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
}

function stale(lock: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(join(lock, "owner.json"), "utf8")) as { pid?: number; host?: string };
    if (owner.host === hostname() && typeof owner.pid === "number" && !alive(owner.pid)) return true;
  } catch {
    // not written yet (its owner is between mkdir and writeFile), or unreadable: judge by age
  }
  const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
  return since !== undefined && Date.now() - since > STALE_MS;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}
