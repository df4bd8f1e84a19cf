/**
 * The settings are declared twice — in package.json for VS Code's settings editor, and as the
 * product's constants the reader falls back to — so they must say the same thing; and the reader
 * turns what VS Code returns (anything a user can type into settings.json) into valid settings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_SIZES } from "../src/core/report";
import { savedSettings, SIZE_LIMITS } from "../src/core/reportSettings";
import {
  ATTENTION_DEFAULTS,
  ATTENTION_LIMITS,
  DEFAULT_HUB_REVISION,
  DEFAULT_PRIOR,
  HOVER_DEFAULTS,
  SECTION,
  settingsFrom,
} from "../src/host/extension/settingValues";
import {
  BLOCK_MB_LIMITS,
  DEFAULT_BLOCK_MB,
  DEFAULT_EP_PREFERENCE,
  DEFAULT_STRATEGY,
  KNOWN_EPS,
  MIB,
  STRATEGIES,
} from "../src/protocol/engine";
import { REPO_ROOT } from "./support/engine";

interface Declared {
  default: unknown;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  items?: { enum?: unknown[] };
}
const declared = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    contributes: { configuration: { properties: Record<string, Declared> } };
  }
).contributes.configuration.properties;
const setting = (key: string) => {
  const d = declared[`${SECTION}.${key}`];
  assert.ok(d, `package.json declares ${SECTION}.${key}`);
  return d;
};

test("package.json declares the product's own defaults and limits", () => {
  for (const [key, field] of [
    ["keys", "nKeys"],
    ["queries", "nQueries"],
    ["outputs", "nOutputs"],
  ] as const) {
    assert.deepEqual(
      [setting(key).default, setting(key).minimum, setting(key).maximum],
      [DEFAULT_SIZES[field], SIZE_LIMITS[field].min, SIZE_LIMITS[field].max],
      key,
    );
  }
  assert.equal(setting("priors").default, DEFAULT_PRIOR);
  assert.deepEqual(setting("executionProviders").default, DEFAULT_EP_PREFERENCE);
  assert.deepEqual(setting("executionProviders").items?.enum, KNOWN_EPS);
  assert.deepEqual(
    [setting("blockSizeMB").default, setting("blockSizeMB").minimum, setting("blockSizeMB").maximum],
    [DEFAULT_BLOCK_MB, BLOCK_MB_LIMITS.min, BLOCK_MB_LIMITS.max],
  );
  assert.deepEqual([setting("strategy").default, setting("strategy").enum], [DEFAULT_STRATEGY, STRATEGIES]);
  assert.deepEqual(
    [setting("hover.enabled").default, setting("hover.languages").default],
    [HOVER_DEFAULTS.enabled, HOVER_DEFAULTS.languages],
  );
  assert.equal(setting("hub.revision").default, DEFAULT_HUB_REVISION);
  assert.equal(setting("attention.editorHighlights").default, ATTENTION_DEFAULTS.editorHighlights);
  assert.deepEqual(
    [setting("attention.maxFileSize").default, setting("attention.maxFileSize").minimum],
    [ATTENTION_DEFAULTS.maxFileSize, ATTENTION_LIMITS.maxFileSize.min],
  );
  assert.deepEqual(
    [setting("attention.debounceMs").default, setting("attention.debounceMs").minimum, setting("attention.debounceMs").maximum],
    [ATTENTION_DEFAULTS.debounceMs, ATTENTION_LIMITS.debounceMs.min, ATTENTION_LIMITS.debounceMs.max],
  );
  const read = new Set<string>();
  settingsFrom((key) => (read.add(key), declared[`${SECTION}.${key}`]?.default));
  assert.deepEqual(
    Object.keys(declared)
      .map((k) => k.slice(SECTION.length + 1))
      .filter((k) => !read.has(k)),
    [],
    "every declared setting is read",
  );
  assert.deepEqual(
    [...read].filter((k) => !declared[`${SECTION}.${k}`]),
    [],
    "every setting read is declared",
  );
});

test("VS Code's own defaults (what get() returns for unset keys) read as the product's defaults", () => {
  const s = settingsFrom((key) => declared[`${SECTION}.${key}`]?.default);
  assert.deepEqual(s.report, { ...DEFAULT_SIZES, prior: "bundled" });
  assert.deepEqual(s.engine, { epPreference: [...DEFAULT_EP_PREFERENCE], blockBytes: DEFAULT_BLOCK_MB * MIB });
  assert.equal(s.strategy, DEFAULT_STRATEGY);
  assert.deepEqual(s.attention, ATTENTION_DEFAULTS);
});

test("hand-edited settings.json values are clamped or replaced by the defaults, and the prior is parsed once", () => {
  const raw: Record<string, unknown> = {
    keys: 1e9,
    queries: -3,
    outputs: "twenty",
    priors: "/home/me/words.txt",
    executionProviders: [],
    blockSizeMB: 0,
    strategy: "fastest",
    "hover.languages": "python",
    "attention.debounceMs": 99999,
    modelFolders: ["/a", 7],
  };
  const s = settingsFrom((key) => raw[key]);
  assert.deepEqual(s.report, {
    nKeys: SIZE_LIMITS.nKeys.max,
    nQueries: SIZE_LIMITS.nQueries.min,
    nOutputs: DEFAULT_SIZES.nOutputs,
    prior: { wordsFile: "/home/me/words.txt" },
  });
  assert.deepEqual(s.engine, { epPreference: [...DEFAULT_EP_PREFERENCE], blockBytes: BLOCK_MB_LIMITS.min * MIB });
  assert.equal(s.strategy, DEFAULT_STRATEGY);
  assert.deepEqual(s.hover.languages, HOVER_DEFAULTS.languages);
  assert.equal(s.attention.debounceMs, ATTENTION_LIMITS.debounceMs.max);
  assert.deepEqual(s.modelFolders, ["/a"]);
});

test("settings an earlier version saved (a panel's state, its results) read as today's; anything else is refused", () => {
  const sizes = { nKeys: 5, nQueries: 20, nOutputs: 20 };
  assert.deepEqual(savedSettings({ ...sizes, priors: "/home/me/words.txt" }), { ...sizes, prior: { wordsFile: "/home/me/words.txt" } });
  assert.deepEqual(savedSettings({ ...sizes, priors: "uniform" }), { ...sizes, prior: "uniform" });
  assert.deepEqual(savedSettings({ ...sizes, prior: "bundled" }), { ...sizes, prior: "bundled" });
  for (const bad of [undefined, null, "bundled", { ...sizes }, { nKeys: "5", nQueries: 20, nOutputs: 20, prior: "uniform" }]) {
    assert.equal(savedSettings(bad), undefined, JSON.stringify(bad));
  }
});
