/**
 * A training checkpoint opened as a model (from the timeline's charts): its overview, or a head in
 * the heads panel. The checkpoint becomes a whole model folder (modelCheckpoints.open: a hub
 * checkpoint is downloaded — after the user agrees, with its size — and converted once; a folder's
 * .safetensors checkpoint is linked), the engine describes it, and the panels open on it as on any
 * model. It is not added to the tree: a history of 200 checkpoints would bury the models there.
 */
import * as vscode from "vscode";
import { checkpointByLabel } from "../../core/checkpoints";
import { HeadRef } from "../../core/heads";
import { notificationText } from "../../core/markdownText";
import { formatLabel } from "../../core/timelineFigures";
import { modelCheckpoints } from "../checkpoints/modelCheckpoints";
import { CheckpointView, TimelinePageState } from "../../protocol/timelinePanel";
import { hubModel } from "../hub/knownModels";
import { hubClient } from "./hubDownloads";
import { LoadableModel } from "./modelEntry";
import { OverviewPanel } from "./overviewPanel";
import type { Services } from "./services";
import { readSettings } from "./settings";

export async function openCheckpoint(
  s: Services,
  timeline: TimelinePageState,
  label: number,
  view: CheckpointView,
  head?: HeadRef,
): Promise<void> {
  const model = await checkpointModel(s, timeline, label);
  if (!model) return;
  if (view === "overview") OverviewPanel.show(s, model);
  else await s.heads.show(model, [head ?? { layer: 0, head: 0 }]);
}

/** The checkpoint labelled `label` as a loadable model, or undefined when the user declined the download. */
async function checkpointModel(s: Services, timeline: TimelinePageState, label: number): Promise<LoadableModel | undefined> {
  const hub = await hubClient(s);
  const storageDir = s.context.globalStorageUri.fsPath;
  const deps = { hub, storageDir, revision: readSettings().hubRevision };
  const checkpoints = await modelCheckpoints(timeline.model, deps);
  const c = checkpointByLabel(checkpoints.listing, label, timeline.name);
  const name = `${timeline.name} at ${formatLabel(label)}`;
  if (hubModel(timeline.model) && !hub.offline) {
    const size = c.size ? ` (${(c.size / 2 ** 20).toFixed(0)} MB)` : "";
    const pick = await vscode.window.showInformationMessage(
      notificationText(`Opening ${name} downloads ${c.file}${size} from the Hugging Face hub into ${hub.cacheDir} and converts it.`),
      { modal: true },
      "Download",
    );
    if (pick !== "Download") return undefined;
  }
  const dir = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: notificationText(`Head Lens: ${name}`), cancellable: true },
    (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      const mb = (b: number) => (b / 2 ** 20).toFixed(1);
      return checkpoints.open(c, {
        signal: ac.signal,
        onStep: (step) => progress.report({ message: notificationText(step) }),
        onProgress: (p) => progress.report({ message: `${notificationText(p.file)}: ${mb(p.received)} / ${mb(p.total)} MB` }),
      });
    },
  );
  const d = await s.engine().describe(dir);
  if (!d.config) throw new Error(`${c.file}: ${d.error ?? "the checkpoint cannot be loaded"}`);
  return { id: `checkpoint:${dir}`, dir, source: "folder", config: d.config };
}
