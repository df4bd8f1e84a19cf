/**
 * The Training Timeline page: a model's head metrics across its training checkpoints, drawn as they
 * arrive. The settings row says what the figures are (light or full metrics, how many checkpoints)
 * and runs them again; the progress row shows checkpoints and bytes, with Cancel. A point of a chart
 * opens that checkpoint's overview or heads panel, or becomes one end of the comparison below.
 */
import { headName } from "../../src/core/heads";
import { formatLabel } from "../../src/core/timelineFigures";
import type { TimelineCheckpoint, TimelineListing } from "../../src/protocol/timeline";
import {
  MAX_TIMELINE_CHECKPOINTS,
  MIN_TIMELINE_CHECKPOINTS,
  TimelinePageState,
  TimelinePanelApi,
  TimelinePanelHostApi,
  TimelineSettings,
} from "../../src/protocol/timelinePanel";
import { connect, onThemeChange } from "../shared/connect";
import { el } from "../shared/dom";
import { ChosenPoint, TimelineCharts } from "./charts";
import { DiffView } from "./diff";
import { closePointMenu, showPointMenu } from "./pointMenu";

const { vscode, channel } = connect<TimelinePageState, TimelinePanelApi, TimelinePanelHostApi>();

let run = 0;
let state: TimelinePageState | undefined;
let listing: TimelineListing | undefined;
let checkpoints: TimelineCheckpoint[] = [];
/** The host's time when the run's first checkpoint was ready, until its chart is drawn. */
let firstComputedAt: number | undefined;

const title = el("h1", {}, "Training timeline");
const summary = el("p", { class: "meta summary" });
const ignored = el("p", { class: "meta ignored", hidden: "" });
const metricsField = el(
  "select",
  { id: "metrics" },
  el("option", { value: "light" }, "Light: every metric but copying, from part of each checkpoint"),
  el("option", { value: "full" }, "Full: copying too, from whole checkpoints"),
);
const countField = el("input", {
  id: "count",
  type: "number",
  min: String(MIN_TIMELINE_CHECKPOINTS),
  max: String(MAX_TIMELINE_CHECKPOINTS),
  step: "1",
});
const allField = el("input", { id: "all", type: "checkbox" });
const form = el(
  "form",
  { class: "settings", "aria-label": "What the timeline computes" },
  el("label", { for: "metrics" }, "Metrics"),
  metricsField,
  el("label", { for: "count" }, "Checkpoints"),
  countField,
  el("label", { class: "inline" }, allField, "all"),
  el("button", { type: "submit" }, "Run"),
);
const bar = el("progress", { max: "1", value: "0", "aria-label": "Checkpoints done" });
const progressText = el("span", { class: "progress-text", role: "status" });
const cancel = el("button", { type: "button", class: "cancel" }, "Cancel");
const progressRow = el("div", { class: "progress-row" }, bar, progressText, cancel);
const outcome = el("p", { class: "status outcome", role: "status" });
const failure = el("p", { class: "error", role: "alert" });
const empty = el("p", { class: "empty" }, "Listing the checkpoints…");

const charts = new TimelineCharts({ choose: (p) => choosePoint(p), drawn: () => firstDrawn() });
const diff = new DiffView();

document
  .getElementById("app")!
  .replaceChildren(
    el("header", { class: "top" }, el("div", { class: "title" }, title), summary, form, progressRow, outcome, failure),
    ignored,
    empty,
    charts.legend,
    charts.element,
    diff.element,
  );

allField.addEventListener("change", () => (countField.disabled = allField.checked));
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const n = Math.round(Number(countField.value));
  if (!allField.checked && !(n >= MIN_TIMELINE_CHECKPOINTS && n <= MAX_TIMELINE_CHECKPOINTS)) {
    failure.textContent = `Checkpoints: a number from ${MIN_TIMELINE_CHECKPOINTS} to ${MAX_TIMELINE_CHECKPOINTS}, or tick “all”.`;
    countField.focus();
    return;
  }
  const settings: TimelineSettings = {
    metrics: metricsField.value === "full" ? "full" : "light",
    checkpoints: allField.checked ? "all" : n,
  };
  channel.notify("rerun", settings);
});
cancel.addEventListener("click", () => channel.notify("cancel", { run }));

const xLabel = () => (listing?.labelType === "token" ? "tokens" : "steps");
const metricsWords = (s: TimelineSettings) =>
  s.metrics === "full" ? "Full metrics (copying included)" : "Light metrics (every metric but copying)";

function showSettings(s: TimelineSettings): void {
  metricsField.value = s.metrics;
  allField.checked = s.checkpoints === "all";
  countField.disabled = allField.checked;
  countField.value = String(s.checkpoints === "all" ? (listing?.labels.length ?? 16) : s.checkpoints);
}

function showSummary(): void {
  if (!state) return;
  const s = state.settings;
  const of = listing ? ` · ${listing.chosen.length} of ${listing.labels.length} checkpoints` : "";
  const labels = listing ? ` · labels: ${listing.labelType === "token" ? "tokens seen" : "training steps"}, log axis` : "";
  summary.textContent = `${metricsWords(s)}${of}${labels}`;
}

function firstDrawn(): void {
  const at = firstComputedAt;
  if (at === undefined) return;
  firstComputedAt = undefined;
  requestAnimationFrame(() => (document.body.dataset.firstChartMs = String(Date.now() - at)));
}

function choosePoint(p: ChosenPoint): void {
  const at = `${formatLabel(p.label)} ${xLabel()}`;
  const head = headName(p.head.layer, p.head.head);
  showPointMenu(p.figure, p.chart, p.anchor, p.title, [
    { label: `Open the overview at ${at}`, run: () => channel.notify("open", { label: p.label, view: "overview" }) },
    {
      label: `Open ${head} at ${at} in the heads panel`,
      run: () => channel.notify("open", { label: p.label, view: "heads", head: p.head }),
    },
    { label: "Compare from here", run: () => diff.set("from", p.label) },
    { label: "Compare to here", run: () => diff.set("to", p.label) },
  ]);
}

channel
  .serve("start", ({ run: r, ...s }) => {
    run = r;
    state = s;
    listing = undefined;
    checkpoints = [];
    firstComputedAt = undefined;
    delete document.body.dataset.firstChartMs;
    vscode.setState(s);
    title.textContent = `Training timeline · ${s.name}`;
    document.title = title.textContent;
    showSettings(s.settings);
    showSummary();
    closePointMenu(false);
    charts.reset(xLabel());
    diff.reset(xLabel());
    Object.assign(document.body.dataset, { run: String(r), state: "running", points: "0" });
    bar.value = 0;
    progressText.textContent = "Listing the checkpoints…";
    outcome.textContent = failure.textContent = "";
    progressRow.hidden = false;
    empty.hidden = false;
    empty.textContent = "Listing the checkpoints…";
  })
  .serve("listing", ({ run: r, listing: l }) => {
    if (r !== run) return;
    listing = l;
    showSummary();
    if (state) showSettings(state.settings);
    charts.reset(xLabel());
    diff.reset(xLabel());
    ignored.hidden = l.ignored.length === 0;
    ignored.textContent = l.ignored.length
      ? `Not checkpoints, ignored: ${l.ignored.slice(0, 5).join("; ")}${l.ignored.length > 5 ? "; …" : ""}`
      : "";
    empty.textContent = `Computing the first of ${l.chosen.length} checkpoints…`;
  })
  .serve("checkpoint", ({ run: r, checkpoint, computedAt }) => {
    if (r !== run) return;
    if (!checkpoints.length) firstComputedAt = computedAt;
    checkpoints = [...checkpoints.filter((c) => c.label !== checkpoint.label), checkpoint].sort((a, b) => a.label - b.label);
    empty.hidden = true;
    charts.update(checkpoints);
    diff.update(checkpoints);
    document.body.dataset.points = String(checkpoints.length);
  })
  .serve("progress", ({ run: r, progress: p }) => {
    if (r !== run) return;
    bar.max = Math.max(1, p.of);
    bar.value = p.done;
    const mb = (b: number) => (b / 2 ** 20).toFixed(1);
    const bytes = p.totalBytes ? ` · ${mb(p.bytesRead)} MB read (of ${mb(p.totalBytes)} MB in these checkpoints)` : "";
    progressText.textContent = `${p.done} of ${p.of} checkpoints${bytes} · ${p.step}`;
  })
  .serve("finished", ({ run: r, outcome: o, message, elapsedMs, bytesRead }) => {
    if (r !== run) return;
    progressRow.hidden = true;
    document.body.dataset.state = o;
    const n = checkpoints.length;
    // No bytes: every checkpoint came from the cache, or was a local .safetensors opened whole.
    const read = bytesRead ? `, ${(bytesRead / 2 ** 20).toFixed(1)} MB of checkpoints read` : "";
    if (o === "done") outcome.textContent = `${n} checkpoints in ${(elapsedMs / 1000).toFixed(1)} s${read}.`;
    else if (o === "cancelled")
      outcome.textContent = `Cancelled after ${n} checkpoints${message ? ` (${message})` : ""}: what was computed is kept, Run continues from there.`;
    else failure.textContent = `The timeline failed: ${message ?? "unknown error"}`;
    if (!n) empty.textContent = o === "done" ? "No checkpoints." : "No checkpoint was computed.";
  });

let themeFrame = 0;
onThemeChange(() => {
  cancelAnimationFrame(themeFrame);
  themeFrame = requestAnimationFrame(() => charts.setTheme());
});

channel.notify("ready", {});
