/**
 * Head Lens: Show Training Timeline (palette, and the tree's menu on a model): a model's head metrics
 * across its training checkpoints (timelinePanel.ts). A hub model need not be downloaded: the timeline
 * reads its checkpoints itself. A timeline left open at a window reload runs again (from the cache).
 */
import { TimelinePageState } from "../../protocol/timelinePanel";
import type { TreeNode } from "./headTree";
import { ModelEntry, modelName } from "./modelEntry";
import { PAGES } from "./pages";
import { pickModel } from "./pickers";
import { commandRegistrar } from "./register";
import type { Services } from "./services";
import { TimelinePanel } from "./timelinePanel";
import { registerRestore } from "./webviewHost";

export const SHOW_TIMELINE = "headLens.showTimeline";

/** What runTimeline takes for a listed model: a hub model's name, else its folder (checkpoints/ beside config.json). */
export function timelineModel(m: ModelEntry): string {
  return m.hub ? m.hub.name : m.dir;
}

export function registerTimeline(s: Services): void {
  commandRegistrar(s)(SHOW_TIMELINE, async (node?: TreeNode) => {
    const model = node?.model ?? (await pickModel(s, { title: "training timeline of which model?" }));
    if (model) TimelinePanel.show(s, timelineModel(model), modelName(model));
  });
  s.context.subscriptions.push(
    registerRestore<TimelinePageState>(
      PAGES.timeline,
      (panel, state) => {
        if (typeof state?.model === "string" && typeof state.name === "string") TimelinePanel.restore(s, panel, state);
        else panel.dispose();
      },
      (e) => s.reportError("restore the training timeline", e),
    ),
  );
}
