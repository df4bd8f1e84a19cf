/**
 * The conversion worker end to end (dist/convertWorker.js, as the extension and CLI run it): the
 * issue's hostile inputs and a fast-check sample of the worst ones end within 5 s with one error
 * naming the user's file and leave no cache entry; the deadline and the heap limit stop a worker
 * cleanly; the host's thread never parses a checkpoint (how responsive it stays while one converts
 * is measured in bench/responsiveness.ts).
 */
import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { ConvertRunOptions } from "../src/host/convertRunner";
import { prepareLocalPth } from "../src/host/hub/prepareHubModel";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { REPO_ROOT, tempDir } from "./support/engine";
import { SENTINEL, assertCleanError, check, expectFailure } from "./support/fuzz";
import { TINY_CONFIG, hostileCases, tinyCheckpoint } from "./support/hostileInputs";
import { worstPth } from "./support/hostilePickles";

const WORKER: ConvertRunOptions = { workerPath: join(REPO_ROOT, "dist", "convertWorker.js") };
const root = tempDir("head-lens-convert-worker-");
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A model folder with config.json + model.pth, and an empty storage folder for the cache. */
function modelFiles(pth: Buffer, config: unknown = TINY_CONFIG) {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "model.pth"), pth);
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  const storage = join(dir, "storage");
  return { pthPath: join(dir, "model.pth"), configPath: join(dir, "config.json"), storage };
}

const cacheEntries = (storage: string) => (existsSync(join(storage, "converted")) ? readdirSync(join(storage, "converted")) : []);

describe("conversion in a worker", () => {
  for (const c of hostileCases()) {
    test(`${c.name} (${c.what}): one clear error within 5 s, no cache entry`, async () => {
      rmSync(SENTINEL, { force: true });
      const f = modelFiles(c.pth, c.config);
      const e = await expectFailure(() => prepareLocalPth(f.pthPath, f.storage, WORKER));
      assertCleanError(e, { file: c.name === "huge-n-layers" ? f.configPath : f.pthPath });
      assert.deepEqual(cacheEntries(f.storage), []);
    });
  }

  test("a sample of generated bombs, deep nests and lying lengths through the worker", async () => {
    await check(
      fc.asyncProperty(worstPth, async (c) => {
        const f = modelFiles(c.pth);
        const e = await expectFailure(() => prepareLocalPth(f.pthPath, f.storage, WORKER));
        assertCleanError(e, { file: f.pthPath, code: c.code, message: c.message });
        assert.deepEqual(cacheEntries(f.storage), []);
      }),
      12,
    );
  });

  test("a valid checkpoint converts and its cache entry is reused", async () => {
    const f = modelFiles(tinyCheckpoint());
    const dir = await prepareLocalPth(f.pthPath, f.storage, WORKER);
    const model = loadLocalModel(dir);
    assert.equal(model.config.n_layers, 1);
    assert.equal(JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).bos_token_id, 0);
    assert.equal(await prepareLocalPth(f.pthPath, f.storage, WORKER), dir, "the cache entry is reused");
  });

  test("the deadline stops a conversion with one error and removes its temporary folder", async () => {
    const f = modelFiles(tinyCheckpoint());
    const e = await expectFailure(() => prepareLocalPth(f.pthPath, f.storage, { ...WORKER, deadlineMs: 1 }));
    assertCleanError(e, { file: f.pthPath, code: "convert.timeout", message: /took longer than .* and was stopped/ });
    assert.deepEqual(cacheEntries(f.storage), []);
    assert.ok(await prepareLocalPth(f.pthPath, f.storage, WORKER), "the next conversion works");
  });

  test("the heap limit stops a conversion with one error", async () => {
    const f = modelFiles(tinyCheckpoint());
    const e = await expectFailure(() =>
      prepareLocalPth(f.pthPath, f.storage, { ...WORKER, resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } }),
    );
    assertCleanError(e, { file: f.pthPath, code: "convert.memory", message: /more than the 1 MB memory limit/ });
    assert.deepEqual(cacheEntries(f.storage), []);
  });

  test("the host bundles hold no checkpoint parser: parsing can only happen in the worker", () => {
    for (const bundle of ["extension.js", "cli.js"]) {
      const text = readFileSync(join(REPO_ROOT, "dist", bundle), "utf8");
      for (const marker of ["_rebuild_tensor_v2", "yauzl", "memo bomb"])
        assert.ok(!text.includes(marker), `dist/${bundle} contains ${marker}`);
    }
    assert.ok(readFileSync(join(REPO_ROOT, "dist", "convertWorker.js"), "utf8").includes("_rebuild_tensor_v2"));
  });
});
