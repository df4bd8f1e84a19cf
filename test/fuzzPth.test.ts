/**
 * Property-based fuzzing of .pth conversion (the code the conversion worker runs, called here
 * in-process for speed): hostile pickles, bombs, deep nesting, lying lengths and views, zip damage,
 * bad weights and configs. Each must end in a one-line error naming the user's file and the
 * problem, within 5 s, with nothing executed and no cache entry left. FUZZ_SEED reproduces a run.
 */
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { convertCheckpoint } from "../src/worker/loaders/convertCheckpoint";
import { tempDir } from "./support/engine";
import { MemoryWatch, SENTINEL, assertCleanError, check, expectFailure } from "./support/fuzz";
import { TINY_CONFIG, tinyCheckpoint } from "./support/hostileInputs";
import { hostilePth } from "./support/hostilePickles";

const root = tempDir("head-lens-fuzz-pth-");
before(() => rmSync(SENTINEL, { force: true }));
after(() => rmSync(root, { recursive: true, force: true }));

let caseNumber = 0;
function writeCase(pth: Buffer, config: Record<string, unknown> | string = TINY_CONFIG as unknown as Record<string, unknown>) {
  const dir = join(root, `case${caseNumber++}`);
  mkdirSync(dir);
  const pthPath = join(dir, "model.pth"),
    configPath = join(dir, "config.json");
  writeFileSync(pthPath, pth);
  writeFileSync(configPath, typeof config === "string" ? config : JSON.stringify(config));
  const out = join(dir, "converted", "model-0123");
  return { dir, job: { configPath, pthPath, out, tmp: `${out}.tmp-fuzz`, name: "fuzz", extra: {} } };
}

describe("fuzz: malformed and hostile .pth checkpoints", () => {
  test("the unmodified checkpoint converts (the mutations below are what breaks it)", async () => {
    const { job } = writeCase(tinyCheckpoint());
    await convertCheckpoint(job);
    assert.ok(existsSync(join(job.out, "model.safetensors")));
  });

  test("600 hostile or malformed checkpoints are refused naming the file, nothing executed, nothing cached", async () => {
    const memory = new MemoryWatch();
    const kinds = new Map<string, number>();
    await check(
      fc.asyncProperty(hostilePth, async (c) => {
        assert.ok(c.pth.length <= 1024 * 1024, `inputs are ≤ 1 MB (${c.kind}: ${c.pth.length})`);
        const { dir, job } = writeCase(c.pth, c.config);
        const e = await expectFailure(() => convertCheckpoint(job));
        assertCleanError(e, { file: c.names === "pth" ? job.pthPath : job.configPath, code: c.code, message: c.message });
        assert.ok(!existsSync(job.out) && !existsSync(job.tmp), "no cache entry is left behind");
        rmSync(dir, { recursive: true, force: true });
        kinds.set(c.kind.split("-")[0], (kinds.get(c.kind.split("-")[0]) ?? 0) + 1);
        memory.sample();
      }),
      600,
    );
    memory.assertBounded("600 hostile checkpoints");
    assert.ok(kinds.size >= 12, `every family was generated: ${JSON.stringify([...kinds])}`);
  });
});
