/** Reads and writes the `headLens.*` settings (their values: settingValues.ts; descriptions: package.json). */
import * as vscode from "vscode";
import { priorSpecString } from "../../core/priorSpec";
import { ReportSettings } from "../../core/reportSettings";
import { SECTION, Settings, settingsFrom } from "./settingValues";

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return settingsFrom((key) => c.get(key));
}

/** The panel's Apply (one change event for all four: the listener re-runs the shown heads once). */
export async function writeReportSettings(s: ReportSettings): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.ConfigurationTarget.Global;
  await c.update("keys", s.nKeys, target);
  await c.update("queries", s.nQueries, target);
  await c.update("outputs", s.nOutputs, target);
  await c.update("priors", priorSpecString(s.prior), target);
}

export async function writeSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}

/** Whether a configuration change touches any of `headLens.<key>` (or all of headLens without keys). */
export function affects(e: vscode.ConfigurationChangeEvent, ...keys: readonly string[]): boolean {
  return keys.length ? keys.some((k) => e.affectsConfiguration(`${SECTION}.${k}`)) : e.affectsConfiguration(SECTION);
}
