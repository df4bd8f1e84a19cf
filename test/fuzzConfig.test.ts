/**
 * Property-based fuzzing of config.json validation, in TransformerLens and Neel naming: one field
 * broken per case (missing, wrong type, out of bounds, absurdly large), and configs that claim more
 * weights than the file holds. Each is refused before anything is allocated, with a one-line error
 * naming the config file and the field. FUZZ_SEED reproduces a run.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CONFIG_LIMITS, checkConfigFitsWeights, impliedParameterCount, parseConfig } from "../src/core/config";
import { parseAnyConfig } from "../src/core/neelConfig";
import { expectedShapes } from "../src/core/weights";
import { MemoryWatch, assertCleanError, check, expectFailure } from "./support/fuzz";

const LABEL = "/fuzz/models/m/config.json";
const INT_FIELDS = ["n_layers", "d_model", "n_heads", "d_head", "d_vocab", "n_ctx"] as const;

const validConfig = fc.record({
  n_layers: fc.integer({ min: 1, max: 4 }),
  d_model: fc.integer({ min: 1, max: 64 }),
  n_heads: fc.integer({ min: 1, max: 8 }),
  d_head: fc.integer({ min: 1, max: 16 }),
  d_vocab: fc.integer({ min: 2, max: 500 }),
  n_ctx: fc.integer({ min: 1, max: 64 }),
  attn_only: fc.constant(true),
  tokenizer_name: fc.constant("gpt2"),
  normalization_type: fc.constantFrom("LN", "LNPre", null),
  positional_embedding_type: fc.constantFrom("standard", "shortformer"),
});

/** A JSON value nested `depth` deep (JSON.parse builds it without recursion; printing it recurses). */
const deep = (depth: number): unknown => JSON.parse("[".repeat(depth) + "]".repeat(depth));

const badInt = fc.oneof(
  fc.constantFrom(0, -1, 1.5, "8", null, true, [], {}, 1e300, Number.MAX_SAFE_INTEGER + 2),
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 10_000 }).map((k) => k * 1e7), // above every limit
  fc.string({ maxLength: 8 }),
  fc.integer({ min: 1000, max: 100_000 }).map(deep),
);

type Breaker = (c: Record<string, unknown>, r: number, v: unknown) => string;

/** Each breaks one field and returns the text the message must contain. */
const BREAKERS: Record<string, Breaker> = {
  int: (c, r, v) => {
    const k = INT_FIELDS[r % INT_FIELDS.length];
    c[k] = v;
    return `"${k}"`;
  },
  overLimit: (c, r) => {
    const k = INT_FIELDS[r % INT_FIELDS.length];
    c[k] = CONFIG_LIMITS[k] + 1 + (r % 1_000_000_000);
    return `"${k}"`;
  },
  missing: (c, r) => {
    const k = INT_FIELDS[r % INT_FIELDS.length];
    delete c[k];
    return `"${k}"`;
  },
  attnOnly: (c, r) => ((c.attn_only = [false, "true", 1, null, undefined, {}][r % 6]), `"attn_only"`),
  positional: (c, r) => ((c.positional_embedding_type = ["rotary", "alibi", 1, "", ["standard"]][r % 5]), `"positional_embedding_type"`),
  normalization: (c, r) => ((c.normalization_type = ["RMS", "ln", 1, "", {}][r % 5]), `"normalization_type"`),
  tokenizer: (c, r) => ((c.tokenizer_name = ["", 5, null, undefined, ["gpt2"]][r % 5]), `"tokenizer_name"`),
  bos: (c, r) => ((c.bos_token_id = [-1, c.d_vocab, 0.5, "0", 2 ** 60][r % 5]), `"bos_token_id"`),
  fileField: (c, r) => {
    const k = r % 2 ? "vocab_map" : "priors";
    c[k] = ["../x.json", "a/b.json", ".", "..", 3, "c:\\x"][r % 6];
    return `"${k}"`;
  },
};

/** The same config in Neel's naming (as the hub's attn-only models write it). */
function neel(c: Record<string, unknown>): Record<string, unknown> {
  const { normalization_type, positional_embedding_type, ...rest } = c;
  return { ...rest, act_fn: "solu_ln", normalization: normalization_type, shortformer_pos: positional_embedding_type === "shortformer" };
}

describe("fuzz: malformed configs", () => {
  test("400 configs with one bad field are refused naming the file and the field", async () => {
    const memory = new MemoryWatch();
    // Neel's configs carry only these fields through (the others are TransformerLens names).
    const neelBreakers = ["int", "overLimit", "missing", "attnOnly"];
    await check(
      fc.asyncProperty(
        validConfig,
        fc.constantFrom(...Object.keys(BREAKERS)),
        fc.nat(),
        badInt,
        fc.boolean(),
        async (valid, breaker, r, v, asNeel) => {
          const raw: Record<string, unknown> = { ...valid };
          const field = BREAKERS[breaker](raw, r, v);
          const useNeel = asNeel && neelBreakers.includes(breaker);
          const e = await expectFailure(() => parseAnyConfig(useNeel ? neel(raw) : raw, LABEL, "fuzz"));
          assertCleanError(e, { file: LABEL, code: "config.invalid" });
          assert.ok((e as Error).message.includes(field), `the message names ${field}: ${(e as Error).message}`);
          memory.sample();
        },
      ),
      400,
    );
    memory.assertBounded("400 malformed configs");
  });

  test("200 configs claiming more weights than the file holds are refused before any allocation", async () => {
    const memory = new MemoryWatch();
    const huge = fc.record({
      n_layers: fc.integer({ min: 1, max: CONFIG_LIMITS.n_layers }),
      d_model: fc.integer({ min: 1, max: CONFIG_LIMITS.d_model }),
      n_heads: fc.integer({ min: 1, max: CONFIG_LIMITS.n_heads }),
      d_head: fc.integer({ min: 1, max: CONFIG_LIMITS.d_head }),
      d_vocab: fc.integer({ min: 2, max: CONFIG_LIMITS.d_vocab }),
      n_ctx: fc.integer({ min: 1, max: CONFIG_LIMITS.n_ctx }),
      attn_only: fc.constant(true),
      tokenizer_name: fc.constant("gpt2"),
      normalization_type: fc.constantFrom("LN", "LNPre", null),
    });
    await check(
      fc.asyncProperty(huge, fc.double({ min: 0, max: 0.999, noNaN: true }), async (raw, fraction) => {
        const config = parseConfig(raw, LABEL, "fuzz");
        const bytes = Math.max(1, Math.floor(impliedParameterCount(config) * 2 * fraction)); // 0 bytes: the next test
        const e = await expectFailure(() => checkConfigFitsWeights(config, LABEL, "/fuzz/models/m/model.pth", bytes));
        assertCleanError(e, { file: LABEL, code: "config.mismatch", message: /n_layers=\d+, d_model=\d+.*model\.pth holds/ });
        memory.sample();
      }),
      200,
    );
    memory.assertBounded("200 oversized configs");
  });

  test("a weights file with no tensor data at all is blamed, not the config", async () => {
    const config = parseConfig(
      { n_layers: 1, d_model: 4, n_heads: 2, d_head: 2, d_vocab: 8, n_ctx: 4, attn_only: true, tokenizer_name: "gpt2" },
      LABEL,
      "fuzz",
    );
    const e = await expectFailure(() => checkConfigFitsWeights(config, LABEL, "/fuzz/models/m/model.pth", 0));
    assertCleanError(e, { file: "/fuzz/models/m/model.pth", code: "weights.empty", message: /holds no tensor data/ });
  });

  test("impliedParameterCount is exactly the size of expectedShapes", async () => {
    await check(
      fc.asyncProperty(validConfig, async (raw) => {
        const config = parseConfig(raw, LABEL, "fuzz");
        const total = [...expectedShapes(config).values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
        assert.equal(impliedParameterCount(config), total);
      }),
      100,
    );
  });
});
