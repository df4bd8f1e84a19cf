/** A vocab.json with a wrong entry is refused with a message naming the file, the entry and why. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelConfig } from "../src/core/config";
import { vocabularyFor } from "../src/worker/loaders/vocabulary";

const demo = join(__dirname, "..", "..", "models", "demo-attn-1l");
const config = JSON.parse(readFileSync(join(demo, "config.json"), "utf8")) as ModelConfig;
const good = JSON.parse(readFileSync(join(demo, "vocab.json"), "utf8")) as { gpt2Ids: unknown[] };

/** The error vocabularyFor gives for a folder whose vocab.json has `gpt2Ids` changed by `edit`. */
function errorFor(edit: (ids: unknown[]) => unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "head-lens-vocab-"));
  writeFileSync(join(dir, "vocab.json"), JSON.stringify({ ...good, gpt2Ids: edit([...good.gpt2Ids]) }));
  try {
    vocabularyFor(config, dir);
  } catch (e) {
    const message = (e as Error).message;
    assert.ok(message.startsWith(join(dir, "vocab.json")), `names the file: ${message}`);
    assert.doesNotMatch(message, /\n/);
    return message;
  }
  return assert.fail("a broken vocab.json was accepted");
}

const set = (i: number, v: unknown) => (ids: unknown[]) => ((ids[i] = v), ids);

test("the demo's own vocab.json loads", () => assert.equal(vocabularyFor(config, demo).size, config.d_vocab));

test("an id past GPT-2's vocabulary: the entry, its value and the valid range", () => {
  assert.match(
    errorFor(set(7, 60000)),
    /gpt2Ids\[7\] is 60000, outside GPT-2's ids 0–50256\. Fix it: "gpt2Ids" lists one GPT-2 id \(or -1 for UNK\) per model id$/,
  );
  assert.match(errorFor(set(300, -2)), /gpt2Ids\[300\] is -2, outside/);
});

test("an entry that is not an integer: the entry and its value as written", () => {
  assert.match(errorFor(set(3, "the")), /gpt2Ids\[3\] is "the", not an integer/);
  assert.match(errorFor(set(12, 1.5)), /gpt2Ids\[12\] is 1\.5, not an integer/);
  assert.match(errorFor(set(0, null)), /gpt2Ids\[0\] is null, not an integer/);
  // The first bad entry is named, not a later one.
  assert.match(
    errorFor((ids) => set(9, "x")(set(4, 99999)(ids))),
    /gpt2Ids\[4\] is 99999/,
  );
});

test("the wrong number of entries, or no list: says how many d_vocab asks for", () => {
  assert.match(
    errorFor((ids) => ids.slice(1)),
    new RegExp(`has ${config.d_vocab - 1} entries, but config.json's d_vocab is ${config.d_vocab}`),
  );
  assert.match(
    errorFor(() => "gpt2"),
    /"gpt2Ids" is not a list \(string\)/,
  );
  assert.match(
    errorFor(() => undefined),
    /"gpt2Ids" is missing/,
  );
});

test("a hostile value is shown as one short line", () => {
  const message = errorFor(set(5, "a\nb".repeat(100)));
  assert.match(message, /gpt2Ids\[5\] is "a\\nb/);
  assert.ok(message.length < 400, message);
});
