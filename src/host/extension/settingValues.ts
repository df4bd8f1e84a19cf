/**
 * The `headLens.*` settings as typed values: every key, and how a raw value becomes a setting
 * (invalid values fall back to the defaults, sizes are clamped to their limits). The defaults and
 * limits are the product's own constants (core, protocol); package.json declares them again for VS
 * Code's settings editor, and test/settings.test.ts keeps the two equal. No `vscode` here: the
 * reader (settings.ts) hands in what VS Code returns.
 */
import { parsePriorSpec } from "../../core/priorSpec";
import { DEFAULT_SIZES } from "../../core/report";
import { ReportSettings, SIZE_LIMITS } from "../../core/reportSettings";
import {
  BLOCK_MB_LIMITS,
  DEFAULT_BLOCK_MB,
  DEFAULT_EP_PREFERENCE,
  DEFAULT_STRATEGY,
  ExecutionProvider,
  MIB,
  Strategy,
  STRATEGIES,
} from "../../protocol/engine";

export const SECTION = "headLens";

/** Defaults of the settings that are the extension's alone (the others come from core and protocol). */
export const ATTENTION_DEFAULTS = { editorHighlights: true, maxFileSize: 20000, debounceMs: 300 } as const;
export const ATTENTION_LIMITS = { maxFileSize: { min: 0 }, debounceMs: { min: 0, max: 5000 } } as const;
export const HOVER_DEFAULTS = { enabled: true, languages: ["*"] as readonly string[] } as const;
export const DEFAULT_PRIOR = "bundled";
export const DEFAULT_HUB_REVISION = "main";

/** Settings whose change alters analysis results (open panels re-run their heads). */
export const RESULT_KEYS = ["keys", "queries", "outputs", "priors"] as const;
/** Settings the engine worker is started with (a change replaces the worker). */
export const ENGINE_KEYS = ["executionProviders", "blockSizeMB"] as const;

export interface Settings {
  report: ReportSettings;
  engine: { epPreference: ExecutionProvider[]; blockBytes: number };
  strategy: Strategy;
  hover: { enabled: boolean; languages: string[] };
  attention: { editorHighlights: boolean; maxFileSize: number; debounceMs: number };
  modelFolders: string[];
  hubRevision: string;
}

/** `get(key)`: the raw value of `headLens.<key>` (VS Code returns package.json's default when unset). */
export function settingsFrom(get: (key: string) => unknown): Settings {
  const int = (key: string, fallback: number, lo = -Infinity, hi = Infinity) => {
    const n = Math.round(Number(get(key)));
    return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : fallback;
  };
  const size = (key: string, field: keyof typeof SIZE_LIMITS) =>
    int(key, DEFAULT_SIZES[field], SIZE_LIMITS[field].min, SIZE_LIMITS[field].max);
  const strings = (key: string) => {
    const v = get(key);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
  };
  const bool = (key: string, fallback: boolean) => (typeof get(key) === "boolean" ? (get(key) as boolean) : fallback);
  const text = (key: string, fallback: string) => (typeof get(key) === "string" && get(key) ? (get(key) as string) : fallback);
  // Unknown providers pass through: the engine skips each with its reason in the log.
  const eps = strings("executionProviders") as ExecutionProvider[] | undefined;
  const strategy = get("strategy");
  return {
    report: {
      nKeys: size("keys", "nKeys"),
      nQueries: size("queries", "nQueries"),
      nOutputs: size("outputs", "nOutputs"),
      prior: parsePriorSpec(text("priors", DEFAULT_PRIOR)),
    },
    engine: {
      epPreference: eps?.length ? eps : [...DEFAULT_EP_PREFERENCE],
      blockBytes: int("blockSizeMB", DEFAULT_BLOCK_MB, BLOCK_MB_LIMITS.min, BLOCK_MB_LIMITS.max) * MIB,
    },
    strategy: STRATEGIES.includes(strategy as Strategy) ? (strategy as Strategy) : DEFAULT_STRATEGY,
    hover: {
      enabled: bool("hover.enabled", HOVER_DEFAULTS.enabled),
      languages: strings("hover.languages") ?? [...HOVER_DEFAULTS.languages],
    },
    attention: {
      editorHighlights: bool("attention.editorHighlights", ATTENTION_DEFAULTS.editorHighlights),
      maxFileSize: int("attention.maxFileSize", ATTENTION_DEFAULTS.maxFileSize, ATTENTION_LIMITS.maxFileSize.min),
      debounceMs: int(
        "attention.debounceMs",
        ATTENTION_DEFAULTS.debounceMs,
        ATTENTION_LIMITS.debounceMs.min,
        ATTENTION_LIMITS.debounceMs.max,
      ),
    },
    modelFolders: strings("modelFolders") ?? [],
    hubRevision: text("hub.revision", DEFAULT_HUB_REVISION),
  };
}
