/** One CLI run's engine and model: the worker started, the model resolved (folder, .pth or hub name). */
import { existsSync, statSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join, resolve } from "node:path";
import { checkpointByLabel } from "../../core/checkpoints";
import { errorMessage, HeadLensError } from "../../core/errors";
import { modelCheckpoints } from "../checkpoints/modelCheckpoints";
import { EngineClient } from "../engineClient";
import { HubClient, hubOptionsFromEnv } from "../hub/hubClient";
import { hubModel, HUB_MODELS } from "../hub/knownModels";
import { prepareHubModel, prepareLocalPth } from "../hub/prepareHubModel";
import { cliProviders } from "./cudaSetup";
import { CommonOptions, MEDIA_DIR, UsageError } from "./options";

export const showProgress = (o: CommonOptions) => !o.json && process.stderr.isTTY;

/** Runs `work` with an engine and the model's folder; exit 0, or 1 with one line on stderr. */
export function withEngine(o: CommonOptions, work: (engine: EngineClient, modelDir: string) => Promise<void>): Promise<number> {
  return withEngineOnly(o, async (engine) => work(engine, await resolveModel(o)));
}

/** Runs `work` with an engine (the model is the work's to resolve); exit 0, or 1 (2 for a usage error) with one line on stderr. */
export async function withEngineOnly(o: CommonOptions, work: (engine: EngineClient) => Promise<void>): Promise<number> {
  let providers: Awaited<ReturnType<typeof cliProviders>>;
  try {
    providers = await cliProviders(o, cliStorageDir());
  } catch (e) {
    process.stderr.write(`head-lens: ${errorMessage(e).split("\n")[0]}\n`);
    return 1;
  }
  const { epPreference, ortRoot } = providers;
  const engine = new EngineClient({
    epPreference,
    ortRoot,
    blockBytes: o.blockBytes,
    mediaDir: MEDIA_DIR,
    threads: availableParallelism(),
    workerPath: join(__dirname, "worker.js"),
    log: (m, warning) =>
      (warning || process.env.HEAD_LENS_VERBOSE) && process.stderr.write(`head-lens: ${warning ? "warning: " : ""}${m}\n`),
  });
  try {
    await work(engine);
    return 0;
  } catch (e) {
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    process.stderr.write(`head-lens: ${errorMessage(e).split("\n")[0]}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await engine.dispose();
  }
}

/** Head Lens's cache for the CLI: converted models, timeline results, ranges read. */
export const cliStorageDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "head-lens");

/**
 * Folder as is; a .pth converted (cached); a hub name downloaded into the HF cache, then converted;
 * with --checkpoint, that training checkpoint of the folder's or hub model's, opened the same ways.
 */
async function resolveModel(o: CommonOptions): Promise<string> {
  const storage = cliStorageDir();
  if (o.checkpoint !== undefined) {
    const deps = { hub: new HubClient(hubOptionsFromEnv()), storageDir: storage, revision: o.revision };
    const model = await modelCheckpoints(o.model, deps);
    return model.open(checkpointByLabel(model.listing, o.checkpoint, o.model), {
      onStep: (step) => process.stderr.write(`head-lens: ${step}\n`),
    });
  }
  const path = resolve(o.model);
  if (existsSync(path) && statSync(path).isDirectory()) return path;
  if (existsSync(path) && path.endsWith(".pth")) return prepareLocalPth(path, storage);
  const spec = hubModel(o.model);
  if (!spec && /[\\/]|^\./.test(o.model)) {
    throw new HeadLensError(
      `model folder ${path} does not exist (expected a folder with config.json and model.safetensors, or a .pth file)`,
      "model.missing",
    );
  }
  if (!spec) {
    throw new HeadLensError(
      `model "${o.model}" is neither a folder, a .pth file, nor a hub model (${HUB_MODELS.map((m) => m.name).join(", ")})`,
      "model.missing",
    );
  }
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  return prepareHubModel(spec, new HubClient(hubOptionsFromEnv()), storage, {
    revision: o.revision,
    onStep: (step) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}head-lens: ${step}${tty ? "" : "\n"}`),
    onProgress: (p) => {
      const now = Date.now();
      if (!tty || (now - lastDraw < 100 && p.received < p.total)) return;
      lastDraw = now;
      const pct = (100 * p.received) / p.total;
      const bar = "#".repeat(Math.round(pct / 4)).padEnd(25, ".");
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      process.stderr.write(
        `\r\x1b[K${p.file} [${bar}] ${pct.toFixed(0)} % ${mib(p.received)}/${mib(p.total)} MiB ${mib(p.bytesPerSecond)} MiB/s`,
      );
    },
  }).finally(() => tty && process.stderr.write("\r\x1b[K"));
}
