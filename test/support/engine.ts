/** An EngineClient on the built worker (dist/worker.js), as the CLI and extension use it. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EngineClient } from "../../src/host/engineClient";

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
export const MEDIA_DIR = join(REPO_ROOT, "media");

export function testEngine(blockBytes = 256 * 1024): EngineClient {
  return new EngineClient({
    epPreference: ["cpu"], blockBytes, mediaDir: MEDIA_DIR, threads: 2,
    workerPath: join(REPO_ROOT, "dist", "worker.js"),
  });
}

export function tempDir(prefix = "head-lens-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
