/** `head-lens timeline`: every head's metrics across a model's training checkpoints. */
import { headName } from "../../core/heads";
import { TIMELINE_METRICS, TimelineCheckpoint, TimelineMetrics, TimelineProgress } from "../../protocol/timeline";
import { runTimeline } from "../checkpoints/timeline";
import { HubClient, hubOptionsFromEnv } from "../hub/hubClient";
import { COMMON_HELP, parseOptions, UsageError } from "./options";
import { cliStorageDir, withEngineOnly } from "./session";
import { writeOut } from "./output";

export const DEFAULT_TIMELINE_CHECKPOINTS = 16;

export const TIMELINE_USAGE = `Usage: head-lens timeline [--model <m>] [--checkpoints N|all] [--metrics light|full] [--json]

Every head's metrics at each training checkpoint of a model: the hub model's checkpoints/*_<N>.pth
(TransformerLens's attn-only models have about 200), or a model folder's checkpoints/ (*_<N>.pth or
*_<N>.safetensors beside its config.json). Labels are tokens seen when the last exceeds 1e9, else steps.
  --checkpoints N|all  N checkpoints spread evenly in log label space, first and last always
                       (default ${DEFAULT_TIMELINE_CHECKPOINTS})
  --metrics light      previous-token, induction, duplicate-token, BOS and composition, reading only
                       the bytes they need (about 5 % of a hub checkpoint) (default)
  --metrics full       also the copying score: each checkpoint downloaded whole
Each entry is exactly what "head-lens metrics --json --checkpoint <label>" gives (copying only with
full). Results are cached under each file's etag: an interrupted run resumes, a second one reads
nothing. Progress (bytes and checkpoints) goes to stderr.

Without --model: the bundled demo-attn-2l, whose checkpoints/ holds 13 checkpoints of a re-run of
its training recipe (steps 24 … 9 570), in which its induction circuit L0H3 → L1H0 forms.

Options:
${COMMON_HELP}`;

export async function timelineCommand(argv: string[]): Promise<number> {
  let checkpoints: number | "all" = DEFAULT_TIMELINE_CHECKPOINTS;
  let metrics: TimelineMetrics = "light";
  const o = parseOptions(argv, (flag, take) => {
    if (flag === "--checkpoints") {
      const v = take.value();
      if (v !== "all" && !(/^\d+$/.test(v) && Number(v) >= 1))
        throw new UsageError(`--checkpoints must be a count ≥ 1 or "all" (got "${v}")`);
      checkpoints = v === "all" ? "all" : Number(v);
      return true;
    }
    if (flag === "--metrics") {
      const v = take.value();
      if (!TIMELINE_METRICS.includes(v as TimelineMetrics)) throw new UsageError(`--metrics must be "light" or "full" (got "${v}")`);
      metrics = v as TimelineMetrics;
      return true;
    }
    return false;
  });
  if (o.checkpoint !== undefined) throw new UsageError("--checkpoint picks one checkpoint; a timeline takes --checkpoints N|all");
  const tty = process.stderr.isTTY;
  const verbose = !!process.env.HEAD_LENS_VERBOSE; // each step's start, for profiling
  const t0 = performance.now();
  let lastStep = "";
  return withEngineOnly(o, async (engine) => {
    const hub = new HubClient(hubOptionsFromEnv());
    const result = await runTimeline(
      { model: o.model, checkpoints, metrics },
      engine,
      { hub, storageDir: cliStorageDir(), revision: o.revision },
      {
        onListing: (l) => {
          for (const why of l.ignored.slice(0, 5)) process.stderr.write(`head-lens: ignored ${why}\n`);
          if (l.ignored.length > 5) process.stderr.write(`head-lens: ignored ${l.ignored.length - 5} more entries of checkpoints/\n`);
          process.stderr.write(`head-lens: ${l.chosen.length} of ${l.labels.length} checkpoints (labels: ${l.labelType}s)\n`);
        },
        onProgress: (p) => {
          if (tty) process.stderr.write(`\r\x1b[K${progressLine(p)}`);
          else if (verbose && p.step !== lastStep)
            process.stderr.write(`head-lens: +${((performance.now() - t0) / 1000).toFixed(2)} s ${(lastStep = p.step)}\n`);
        },
        onCheckpoint: (c) => !tty && process.stderr.write(`head-lens: ${c.file} done\n`),
      },
    );
    if (tty) process.stderr.write("\r\x1b[K");
    process.stderr.write(`head-lens: ${result.checkpoints.length} checkpoints, ${mib(result.bytesRead)} MiB read\n`);
    const { model, labelType } = result.listing;
    const out = o.json
      ? JSON.stringify({ model, labelType, checkpoints: result.checkpoints }) + "\n"
      : timelineText(result.checkpoints, labelType);
    await writeOut([out]);
  });
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export function progressLine(p: TimelineProgress): string {
  return `head-lens: ${p.done}/${p.of} checkpoints · ${mib(p.bytesRead)} MiB read (checkpoints total ${mib(p.totalBytes)} MiB) · ${p.step}`;
}

/** One line per checkpoint: the strongest previous-token and induction heads, and the strongest K-composition. */
export function timelineText(checkpoints: TimelineCheckpoint[], labelType: string): string {
  const best = (c: TimelineCheckpoint, k: "prevToken" | "induction") => {
    const h = c.heads.reduce((a, b) => (b[k] > a[k] ? b : a));
    return `${headName(h.layer, h.head)} ${h[k].toFixed(3)}`;
  };
  const kComp = (c: TimelineCheckpoint) => {
    let top = { v: -1, name: "—" };
    c.composition.k.forEach((a, l1) =>
      a.forEach((b, h1) =>
        b.forEach((row, l2) =>
          row.forEach((v, h2) => {
            if (l1 < l2 && v > top.v) top = { v, name: `${headName(l1, h1)} → ${headName(l2, h2)} ${v.toFixed(3)}` };
          }),
        ),
      ),
    );
    return top.name;
  };
  const head = `${labelType.padStart(14)}  ${"previous-token".padEnd(16)}${"induction".padEnd(16)}strongest K-composition`;
  return (
    [
      head,
      ...checkpoints.map(
        (c) => `${String(c.label).padStart(14)}  ${best(c, "prevToken").padEnd(16)}${best(c, "induction").padEnd(16)}${kComp(c)}`,
      ),
    ].join("\n") + "\n"
  );
}
