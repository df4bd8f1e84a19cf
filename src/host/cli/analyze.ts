/** `head-lens analyze`: the notebook's report for heads (direct path, or a composition path with --via). */
import { HeadReport, ModelReport, DEFAULT_SIZES, PathRef } from "../../core/report";
import { formatHeadReport } from "../../core/reportText";
import { headName, HeadRef } from "../../core/heads";
import { COMMON_HELP, parseOptions, UsageError } from "./options";
import { showProgress, withEngine } from "./session";
import { writeOut } from "./output";

export const ANALYZE_USAGE = `Usage: head-lens analyze [--model <m>] (--layer L --head H | --all) [options]

Expands attention heads into token space (QK and OV circuits) and prints the report.

Options:
  --layer L --head H   one head
  --all                every head of every layer, streamed
  --via L2.H2:k|q|v    the composition path through an earlier head instead of the direct path:
                       k = keys are tokens L2H2 moved into the key position, q = queries moved
                       into the query position, v = values moved through L2H2 (with --all: every
                       head of a later layer)
  --keys N             keys per head (default ${DEFAULT_SIZES.nKeys})
  --queries N          queries per key (default ${DEFAULT_SIZES.nQueries})
  --outputs N          output tokens per key (default ${DEFAULT_SIZES.nOutputs})
  --priors P           uniform | bundled | path to a words.txt (default bundled)
  --strategy S         auto (default), dense or pruned; all give the same report. dense: the full
                       float32 V² pass (the oracle). pruned: cheap rigorous bounds (int8 passes
                       over the keys they leave, where many stay) and only keys that could enter
                       the report are evaluated exactly. auto: pruned on the cpu provider from
                       V >= 8192, else dense
${COMMON_HELP}`;

/** "1.0:k" → { layer: 1, head: 0, type: "k" } */
export function parseVia(v: string): PathRef {
  const m = /^(\d+)\.(\d+):([kqv])$/.exec(v.trim());
  if (!m) throw new UsageError(`--via must look like L.H:k, L.H:q or L.H:v, e.g. 0.3:k (got "${v}")`);
  return { layer: Number(m[1]), head: Number(m[2]), type: m[3] as PathRef["type"] };
}

export async function analyzeCommand(argv: string[]): Promise<number> {
  let layer: number | undefined,
    head: number | undefined,
    all = false,
    via: PathRef | undefined;
  const sizes = { ...DEFAULT_SIZES };
  const o = parseOptions(argv, (flag, take) => {
    switch (flag) {
      case "--layer":
        layer = take.int(0);
        return true;
      case "--head":
        head = take.int(0);
        return true;
      case "--all":
        all = true;
        return true;
      case "--via":
        via = parseVia(take.value());
        return true;
      case "--keys":
        sizes.nKeys = take.int(1);
        return true;
      case "--queries":
        sizes.nQueries = take.int(0);
        return true;
      case "--outputs":
        sizes.nOutputs = take.int(0);
        return true;
      default:
        return false;
    }
  });
  if (all && (layer !== undefined || head !== undefined)) throw new UsageError("use either --all or --layer/--head, not both");
  if (!all && (layer === undefined || head === undefined)) throw new UsageError("say which head: --layer L --head H, or --all");
  const heads: HeadRef[] | "all" = all ? "all" : [{ layer: layer!, head: head! }];
  const progress = showProgress(o);
  return withEngine(o, async (engine, modelDir) => {
    let model = "",
      ep = "",
      t0 = 0;
    const reports: HeadReport[] = await engine.analyze(
      { modelDir, heads, strategy: o.strategy, priors: o.prior, sizes, ...(via ? { via } : {}) },
      {
        onEvent: (ev) => {
          if (ev.type === "started") ({ model, ep, t0 } = { ...ev, t0: performance.now() });
          if (ev.type === "progress" && progress)
            process.stderr.write(`\r${(100 * ev.fraction).toFixed(0).padStart(3)}%  ${headName(ev.layer, ev.head)}`);
          if (ev.type === "head" && !o.json) {
            if (progress) process.stderr.write("\r\x1b[K");
            process.stdout.write(formatHeadReport(ev.report));
          }
        },
      },
    );
    // The analysis alone (model loaded): what the benchmarks quote beside the whole command's time.
    if (process.env.HEAD_LENS_VERBOSE)
      process.stderr.write(`head-lens: analyzed ${reports.length} head(s) in ${((performance.now() - t0) / 1000).toFixed(3)} s on ${ep}\n`);
    if (o.json) {
      const out: HeadReport | ModelReport = heads === "all" ? { model, ep, heads: reports } : reports[0];
      await writeOut([JSON.stringify(out) + "\n"]);
    }
  });
}
