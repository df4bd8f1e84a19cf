/**
 * The Training Timeline panel (one per model, reused): runs the timeline (checkpoints/timeline.ts) and
 * streams it to the page — listing, each checkpoint's metrics as it is done, progress, how it ended —
 * keeping what it sent so that a re-created page gets it all again. The page's settings row re-runs
 * (a run superseded or cancelled stops between checkpoints; what it computed stays cached, so the
 * next run gets it back at once); a point of a chart opens its checkpoint (checkpointModels.ts).
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { formatLabel } from "../../core/timelineFigures";
import { spreadCheckpoints } from "../../core/checkpoints";
import { modelCheckpoints } from "../checkpoints/modelCheckpoints";
import { runTimeline } from "../checkpoints/timeline";
import {
  DEFAULT_TIMELINE_SETTINGS as DEFAULTS,
  MAX_TIMELINE_CHECKPOINTS,
  MIN_TIMELINE_CHECKPOINTS,
  TimelinePageState,
  TimelinePanelApi,
  TimelinePanelHostApi,
  TimelineSettings,
} from "../../protocol/timelinePanel";
import { CheckpointDeps } from "../checkpoints/modelCheckpoints";
import { hubModel } from "../hub/knownModels";
import { openCheckpoint } from "./checkpointModels";
import { hubClient } from "./hubDownloads";
import { PAGES } from "./pages";
import type { Services } from "./services";
import { readSettings } from "./settings";
import { PageSet, WebviewHost } from "./webviewHost";

const panels = new PageSet<TimelinePanel>();

type Sent = { [M in keyof TimelinePanelApi]: [M, TimelinePanelApi[M]["params"]] }[keyof TimelinePanelApi];

export class TimelinePanel {
  readonly host: WebviewHost<TimelinePanelHostApi, TimelinePanelApi>;
  private runs = 0;
  private inflight?: AbortController;
  /** What the page shows of the current run, in the order sent (progress: only the latest). */
  private sent: Sent[] = [];

  private constructor(
    private readonly s: Services,
    private state: TimelinePageState,
    restored?: vscode.WebviewPanel,
  ) {
    const title = `Timeline: ${state.name}`;
    // A hidden page is not retained: the re-created one gets the whole run again.
    const options = { waiting: "discard" as const, onReady: () => this.replay() };
    this.host = WebviewHost.open(restored, PAGES.timeline, s.context.extensionUri, title, options);
    this.host.channel
      .serve("rerun", (settings) => void this.run(checkedSettings(settings)))
      .serve("cancel", ({ run }) => {
        if (run === this.runs) this.inflight?.abort();
      })
      .serve("open", ({ label, view, head }) => {
        const what = view === "overview" ? "overview" : "heads panel";
        openCheckpoint(this.s, this.state, Number(label), view, head).catch((e) =>
          this.s.reportError(`open the ${what} of ${state.name} at ${formatLabel(Number(label))}`, e),
        );
      });
    this.host.onDidDispose(() => this.inflight?.abort());
    panels.add(state.model, this);
    void this.run(state.settings);
  }

  /** Opens (or reveals) a model's timeline; a panel already open keeps its settings. */
  static show(s: Services, model: string, name: string): TimelinePanel {
    const open = panels.get(model);
    if (open) {
      open.host.reveal(false);
      return open;
    }
    const last = s.context.globalState.get<TimelineSettings>(SETTINGS_KEY);
    return new TimelinePanel(s, { model, name, settings: last ? checkedSettings(last) : DEFAULTS }, undefined);
  }

  /** Re-attaches a timeline VS Code restored after a reload (it runs again: cached checkpoints come back at once). */
  static restore(s: Services, panel: vscode.WebviewPanel, state: TimelinePageState): TimelinePanel {
    return new TimelinePanel(s, { ...state, settings: checkedSettings(state.settings) }, panel);
  }

  private post(...m: Sent): void {
    if (m[0] === "progress") this.sent = this.sent.filter(([k]) => k !== "progress");
    this.sent.push(m);
    this.host.post(...m);
  }

  private replay(): void {
    for (const m of this.sent) this.host.post(...m);
  }

  /** Runs the timeline with `settings`, superseding the run in flight. */
  private async run(settings: TimelineSettings): Promise<void> {
    this.inflight?.abort();
    const ac = (this.inflight = new AbortController());
    const run = ++this.runs;
    this.state = { ...this.state, settings };
    void this.s.context.globalState.update(SETTINGS_KEY, settings);
    this.sent = [];
    this.post("start", { run, ...this.state });
    const started = Date.now();
    const live = () => run === this.runs;
    try {
      const deps = await this.deps();
      if (!(await this.confirmFull(settings, deps, ac.signal))) {
        this.post("finished", { run, outcome: "cancelled", message: "full metrics not downloaded", elapsedMs: 0, bytesRead: 0 });
        return;
      }
      const r = await runTimeline({ model: this.state.model, ...settings }, this.s.engine(), deps, {
        signal: ac.signal,
        onListing: (listing) => live() && this.post("listing", { run, listing }),
        onCheckpoint: (checkpoint) => live() && this.post("checkpoint", { run, checkpoint, computedAt: Date.now() }),
        onProgress: (progress) => live() && this.post("progress", { run, progress }),
      });
      const elapsedMs = Date.now() - started;
      if (live()) this.post("finished", { run, outcome: "done", elapsedMs, bytesRead: r.bytesRead });
      this.s.log.info(
        `timeline: ${this.state.name}, ${r.checkpoints.length} checkpoints (${settings.metrics}) in ${elapsedMs} ms, ` +
          `${(r.bytesRead / 2 ** 20).toFixed(1)} MiB of checkpoints read`,
      );
    } catch (e) {
      if (!live()) return;
      const cancelled = isCancelled(e) || ac.signal.aborted;
      this.post("finished", {
        run,
        outcome: cancelled ? "cancelled" : "failed",
        message: errorMessage(e),
        elapsedMs: Date.now() - started,
        bytesRead: 0,
      });
      if (!cancelled) this.s.log.warn(`timeline: ${this.state.name}: ${errorMessage(e)}`);
    }
  }

  private async deps(): Promise<CheckpointDeps> {
    return { hub: await hubClient(this.s), storageDir: this.s.context.globalStorageUri.fsPath, revision: readSettings().hubRevision };
  }

  /** Full metrics of a hub model download each chosen checkpoint whole: the user says yes first, with the size. */
  private async confirmFull(settings: TimelineSettings, deps: CheckpointDeps, signal: AbortSignal): Promise<boolean> {
    if (settings.metrics !== "full" || !hubModel(this.state.model) || deps.hub.offline) return true;
    const all = (await modelCheckpoints(this.state.model, deps, signal)).listing.checkpoints;
    const chosen = settings.checkpoints === "all" ? all : spreadCheckpoints(all, settings.checkpoints);
    const bytes = chosen.reduce((n, c) => n + (c.size ?? 0), 0);
    const pick = await vscode.window.showInformationMessage(
      `Full metrics (copying included) of ${this.state.name} download ${chosen.length} whole checkpoints` +
        `${bytes ? ` (${(bytes / 2 ** 30).toFixed(1)} GB)` : ""} into ${deps.hub.cacheDir}. Light metrics read only a part of each.`,
      { modal: true },
      "Download",
    );
    return pick === "Download";
  }
}

/** The settings of the last run (globalState): a new panel starts with them. */
const SETTINGS_KEY = "headLens.timelineSettings";

/** Settings from the page (or a saved state), checked: anything odd becomes the default. */
export function checkedSettings(x: Partial<TimelineSettings> | undefined): TimelineSettings {
  const metrics = x?.metrics === "full" ? "full" : "light";
  const n = x?.checkpoints;
  const inRange = typeof n === "number" && Number.isSafeInteger(n) && n >= MIN_TIMELINE_CHECKPOINTS && n <= MAX_TIMELINE_CHECKPOINTS;
  const checkpoints = n === "all" ? "all" : inRange ? n : DEFAULTS.checkpoints;
  return { metrics, checkpoints };
}
