/** An EngineClient on the built worker (dist/worker.js), as the CLI and extension use it. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { EngineClient, EngineClientOptions } from "../../src/host/engineClient";

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
export const MEDIA_DIR = join(REPO_ROOT, "media");

export function testEngine(blockBytes = 256 * 1024, extra: Partial<EngineClientOptions> = {}): EngineClient {
  return new EngineClient({
    epPreference: ["cpu"],
    blockBytes,
    mediaDir: MEDIA_DIR,
    threads: 2,
    workerPath: join(REPO_ROOT, "dist", "worker.js"),
    ...extra,
  });
}

/**
 * An engine whose worker a test can make die of an uncaught error, as a crash would. The hook
 * lives here, wrapped around the real worker script, not in the product.
 */
export function crashableEngine(blockBytes?: number): { engine: EngineClient; crash(): void } {
  let current: Worker | undefined;
  const engine = testEngine(blockBytes, {
    createWorker: (path, workerData) =>
      (current = new Worker(
        `
      const { parentPort } = require("node:worker_threads");
      parentPort.on("message", (m) => { if (m === "crash-for-test") setImmediate(() => { throw new Error("crash requested by a test"); }); });
      require(${JSON.stringify(path)});
    `,
        { eval: true, workerData },
      )),
  });
  return { engine, crash: () => current?.postMessage("crash-for-test") };
}

export function tempDir(prefix = "head-lens-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
