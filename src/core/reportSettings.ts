/**
 * What a head's report is computed under: its sizes and the token prior. Results carry the settings
 * they were computed with; a panel shows a result only while they are the settings it displays.
 */
import { fileName, parsePriorSpec, PriorSpec, priorSpecString, samePrior } from "./priorSpec";
import { ReportSizes } from "./report";

export interface ReportSettings extends ReportSizes {
  prior: PriorSpec;
}

/** The range each report size may take (settings outside are clamped; the panel's fields refuse them). */
export const SIZE_LIMITS = { nKeys: { min: 1, max: 200 }, nQueries: { min: 0, max: 500 }, nOutputs: { min: 0, max: 500 } } as const;

/** Two settings are the same analysis request (what the cards on screen must agree with). */
export function sameSettings(a: ReportSettings, b: ReportSettings): boolean {
  return a.nKeys === b.nKeys && a.nQueries === b.nQueries && a.nOutputs === b.nOutputs && samePrior(a.prior, b.prior);
}

/** "keys 5 · queries 20 · outputs 20 · prior bundled"; `short` names a words file by its name
 * (the panel), else by its path (the log). */
export function describeSettings(s: ReportSettings, short = false): string {
  const prior = typeof s.prior !== "string" && short ? fileName(s.prior.wordsFile) : priorSpecString(s.prior);
  return `keys ${s.nKeys} · queries ${s.nQueries} · outputs ${s.nOutputs} · prior ${prior}`;
}

export function sizesOf(s: ReportSizes): ReportSizes {
  return { nKeys: s.nKeys, nQueries: s.nQueries, nOutputs: s.nOutputs };
}

/** Settings saved by an earlier version (a page's state, a restored panel's results) read as today's:
 * the prior was its setting's string form (`priors`) before it was parsed once where it is read. */
export function savedSettings(s: unknown): ReportSettings | undefined {
  const o = s as Partial<ReportSettings> & { priors?: unknown };
  if (typeof o?.nKeys !== "number" || typeof o.nQueries !== "number" || typeof o.nOutputs !== "number") return undefined;
  if (o.prior !== undefined) return o as ReportSettings;
  return typeof o.priors === "string" ? { ...sizesOf(o as ReportSettings), prior: parsePriorSpec(o.priors) } : undefined;
}
