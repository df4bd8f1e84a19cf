import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../src/core/config";

const good = { n_layers: 2, d_model: 16, n_heads: 2, d_head: 8, d_vocab: 100, n_ctx: 32, attn_only: true, tokenizer_name: "gpt2" };

test("a valid config parses with TL defaults filled in", () => {
  const c = parseConfig(good, "cfg", "fallback");
  assert.equal(c.model_name, "fallback");
  assert.equal(c.positional_embedding_type, "standard");
  assert.equal(c.normalization_type, "LN");
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ["missing d_model", { ...good, d_model: undefined }, /"d_model" must be a positive integer/],
  ["fractional n_heads", { ...good, n_heads: 1.5 }, /"n_heads" must be a positive integer/],
  ["not attention-only", { ...good, attn_only: false }, /attention-only/],
  ["rotary", { ...good, positional_embedding_type: "rotary" }, /"positional_embedding_type" "rotary" is not supported/],
  ["RMS norm", { ...good, normalization_type: "RMS" }, /"normalization_type" "RMS" is not supported/],
  ["no tokenizer", { ...good, tokenizer_name: "" }, /"tokenizer_name"/],
  ["BOS out of range", { ...good, bos_token_id: 100 }, /"bos_token_id" 100 must be an id in \[0, d_vocab=100\)/],
  ["vocab map path escapes the folder", { ...good, vocab_map: "../x.json" }, /"vocab_map" must be a plain file name/],
];
for (const [name, raw, re] of bad) {
  test(`rejects ${name}`, () =>
    assert.throws(
      () => parseConfig(raw, "/m/config.json", "x"),
      (e: Error) => re.test(e.message) && e.message.startsWith("/m/config.json"),
    ));
}
test("rejects a non-object", () => assert.throws(() => parseConfig([1], "c", "x"), /must hold a JSON object/));
