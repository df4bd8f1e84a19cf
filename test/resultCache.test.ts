import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HeadResult } from "../src/protocol/engine";
import { ResultCache } from "../src/worker/resultCache";
import { tempDir } from "./support/engine";

const settings = { nKeys: 5, nQueries: 20, nOutputs: 20, prior: "bundled" as const };
const identity = (model: string, prior = "bundled:abc") => ({ model, prior });
const head = (layer: number, h: number): HeadResult => ({
  report: { model: "m", layer, head: h, bos: 0, ep: "cpu", keys: [] },
  details: { keys: [], tokens: {}, prior: "uniform" },
  elapsedMs: 12,
  cached: false,
  computedWith: settings,
  identity: identity("hash-a"),
});

test("results persist across instances, keyed by identity (model and prior content) and sizes", () => {
  const dir = tempDir();
  const key = ResultCache.key(identity("hash-a"), settings);
  new ResultCache(dir).put(key, head(1, 2));
  assert.deepEqual(new ResultCache(dir).get(key, { layer: 1, head: 2 }), head(1, 2), "a new instance reads it from disk");
  assert.equal(
    new ResultCache(dir).get(ResultCache.key(identity("hash-b"), settings), { layer: 1, head: 2 }),
    undefined,
    "another model misses",
  );
  assert.equal(
    new ResultCache(dir).get(ResultCache.key(identity("hash-a", "words:other"), settings), { layer: 1, head: 2 }),
    undefined,
    "another prior content misses",
  );
  assert.equal(
    new ResultCache(dir).get(ResultCache.key(identity("hash-a"), { ...settings, nKeys: 6 }), { layer: 1, head: 2 }),
    undefined,
    "other sizes miss",
  );
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes(".tmp")),
    [],
    "no temp files left",
  );
});

test("a corrupt cache file is deleted and treated as a miss, never used", () => {
  const dir = tempDir();
  const key = ResultCache.key(identity("hash-c"), settings);
  new ResultCache(dir).put(key, head(0, 0));
  const file = join(
    dir,
    readdirSync(dir).find((f) => f.includes(key))!,
  );
  writeFileSync(file, "{ half a json");
  assert.equal(new ResultCache(dir).get(key, { layer: 0, head: 0 }), undefined);
  assert.ok(!existsSync(file));
});

test("entries an earlier version wrote (another file format) are deleted when the cache opens; the current ones stay", () => {
  const dir = tempDir();
  const key = ResultCache.key(identity("hash-d"), settings);
  new ResultCache(dir).put(key, head(0, 1));
  const old = join(dir, `${"0".repeat(32)}-0-1.json`); // how the host's cache named its entries
  writeFileSync(old, JSON.stringify({ ...head(0, 1), computedWith: { nKeys: 5, nQueries: 20, nOutputs: 20, priors: "bundled" } }));
  const cache = new ResultCache(dir);
  assert.ok(!existsSync(old));
  assert.deepEqual(cache.get(key, { layer: 0, head: 1 }), head(0, 1));
});
