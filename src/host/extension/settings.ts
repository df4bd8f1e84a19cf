/** Reads the `headLens.*` settings (descriptions live in package.json). */
import * as vscode from "vscode";
import { ExecutionProvider } from "../../worker/ortBackend";
import { Strategy } from "../../protocol/engine";
import { PanelSettings, SIZE_LIMITS } from "../../protocol/webview";

export const SECTION = "headLens";

export function readPanelSettings(): PanelSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    nKeys: clampInt(c.get("keys", 5), SIZE_LIMITS.nKeys.min, SIZE_LIMITS.nKeys.max),
    nQueries: clampInt(c.get("queries", 20), SIZE_LIMITS.nQueries.min, SIZE_LIMITS.nQueries.max),
    nOutputs: clampInt(c.get("outputs", 20), SIZE_LIMITS.nOutputs.min, SIZE_LIMITS.nOutputs.max),
    priors: c.get("priors", "bundled") || "bundled",
  };
}

export async function writePanelSettings(s: PanelSettings): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const target = vscode.ConfigurationTarget.Global;
  await c.update("keys", s.nKeys, target);
  await c.update("queries", s.nQueries, target);
  await c.update("outputs", s.nOutputs, target);
  await c.update("priors", s.priors, target);
}

export function engineSettings(): { epPreference: ExecutionProvider[]; blockBytes: number } {
  const c = vscode.workspace.getConfiguration(SECTION);
  const eps = c.get<string[]>("executionProviders", ["cpu"]);
  return {
    epPreference: (eps.length ? eps : ["cpu"]) as ExecutionProvider[],
    blockBytes: clampInt(c.get("blockSizeMB", 12), 1, 4096) * 1024 * 1024,
  };
}

export function strategySetting(): Strategy {
  const s = vscode.workspace.getConfiguration(SECTION).get<string>("strategy", "auto");
  return s === "dense" || s === "pruned" ? s : "auto";
}

export function hoverSettings(): { enabled: boolean; languages: string[] } {
  const c = vscode.workspace.getConfiguration(SECTION);
  return { enabled: c.get("hover.enabled", true), languages: c.get<string[]>("hover.languages", ["*"]) };
}

function clampInt(v: unknown, lo: number, hi: number): number {
  const n = Math.round(Number(v));
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : lo;
}
