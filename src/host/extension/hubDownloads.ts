/**
 * Hub models in the extension: offers the download (with its size) the first time one is analyzed,
 * shows bytes and speed with a working Cancel, then converts it once (cached by blob hash).
 */
import * as vscode from "vscode";
import { HubClient, hubOptionsFromEnv } from "../hub/hubClient";
import { checkpointFile } from "../hub/knownModels";
import { prepareHubModel } from "../hub/prepareHubModel";
import { ModelEntry } from "./modelEntry";
import type { Register } from "./register";
import type { Services } from "./services";
import { readSettings } from "./settings";

export const TOKEN_SECRET = "headLens.hfToken";

/** The hub client every download uses: the token from VS Code's secret storage, else the environment's. */
export async function hubClient(s: Pick<Services, "context">): Promise<HubClient> {
  const env = hubOptionsFromEnv();
  const token = (await s.context.secrets.get(TOKEN_SECRET)) || env.token;
  return new HubClient({ ...env, token });
}

const revision = () => readSettings().hubRevision;

/** Returns a usable entry for a hub model (downloading after the user agrees), or undefined. */
export async function ensureDownloaded(s: Services, entry: ModelEntry): Promise<ModelEntry | undefined> {
  if (entry.config || !entry.hub) return entry;
  const spec = entry.hub;
  const hub = await hubClient(s);
  let size = "";
  if (!hub.offline) {
    try {
      const files = await hub.listFiles(spec.repo, revision());
      const pth = checkpointFile(spec, files);
      if (pth) size = ` (${((await hub.fileSize(spec.repo, revision(), pth)) / 2 ** 20).toFixed(0)} MB)`;
    } catch (e) {
      s.reportError(`cannot download ${spec.name}`, e);
      return undefined;
    }
  }
  const pick = await vscode.window.showInformationMessage(
    `${spec.name} is not downloaded yet. Download ${spec.repo}${size} from the Hugging Face hub into ${hub.cacheDir}?`,
    { modal: true },
    "Download",
  );
  if (pick !== "Download") return undefined;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Head Lens: ${spec.name}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let shown = 0;
      await prepareHubModel(spec, hub, s.context.globalStorageUri.fsPath, {
        revision: revision(),
        signal: ac.signal,
        onStep: (step) => progress.report({ message: step }),
        onProgress: (p) => {
          const pct = Math.floor((100 * p.received) / p.total);
          const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
          progress.report({
            increment: pct > shown ? pct - shown : undefined,
            message: `${p.file}: ${mb(p.received)} / ${mb(p.total)} MB at ${mb(p.bytesPerSecond)} MB/s`,
          });
          shown = Math.max(shown, pct);
        },
      });
    },
  );
  await s.registry.refresh();
  return s.registry.get(entry.id);
}

export function registerHubCommands(s: Services, reg: Register): void {
  reg("headLens.setHubToken", async () => {
    const token = await vscode.window.showInputBox({
      title: "Hugging Face access token",
      prompt: "Used for gated or private repositories; stored in VS Code's secret storage",
      password: true,
      ignoreFocusOut: true,
    });
    if (token === undefined) return;
    if (token) await s.context.secrets.store(TOKEN_SECRET, token);
    else await s.context.secrets.delete(TOKEN_SECRET);
  });
}
