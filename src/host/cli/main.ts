/**
 * head-lens CLI: the same report as the extension, for scripts and CI.
 *   head-lens analyze [--model <dir>] (--layer L --head H | --all) [--keys N] [--queries N]
 *                     [--outputs N] [--priors uniform|bundled|<words.txt>] [--json] [--ep list]
 */
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { errorMessage } from "../../core/errors";
import { HeadReport, ModelReport, DEFAULT_SIZES } from "../../core/report";
import { formatHeadReport } from "../../core/reportText";
import { headName } from "../../core/headName";
import { EngineClient } from "../engineClient";
import { DEFAULT_EP_PREFERENCE, DEFAULT_STRATEGY, ExecutionProvider, HeadRef, KNOWN_EPS, Strategy, STRATEGIES } from "../../protocol/engine";
import { parsePriorSpec } from "../../core/priorSpec";
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { HubClient, hubOptionsFromEnv } from "../hub/hubClient";
import { hubModel, HUB_MODELS } from "../hub/knownModels";
import { prepareHubModel, prepareLocalPth } from "../hub/prepareHubModel";
import { HeadLensError } from "../../core/errors";

const PACKAGE_ROOT = resolve(__dirname, "..");
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, "models", "demo-attn-2l");
// 64 rows of a 48k-vocab slab: small enough to stay near the caches, large enough to amortize a run.
export const DEFAULT_BLOCK_BYTES = 12 * 1024 * 1024;

const USAGE = `Usage: head-lens analyze [--model <dir>] (--layer L --head H | --all) [options]

Expands attention heads into token space (QK and OV circuits) and prints the report.

Options:
  --model <m>          a model folder (config.json + model.safetensors), a TransformerLens .pth
                       (config.json beside it), or a hub model: ${HUB_MODELS.map((m) => m.name).join(", ")}
                       (downloaded once into the Hugging Face cache); default: bundled demo-attn-2l
  --revision R         hub revision for a hub model (default main)
  --layer L --head H   one head
  --all                every head of every layer, streamed
  --keys N             keys per head (default ${DEFAULT_SIZES.nKeys})
  --queries N          queries per key (default ${DEFAULT_SIZES.nQueries})
  --outputs N          output tokens per key (default ${DEFAULT_SIZES.nOutputs})
  --priors P           uniform | bundled | path to a words.txt (default bundled)
  --json               machine-readable output
  --ep LIST            execution-provider preference, comma-separated from ${KNOWN_EPS.join(",")} (default cpu)
  --block-mb N         memory for one streamed block, in MiB (default 12)
  --strategy S         auto (default), dense or pruned; all give the same report. dense: the full
                       float32 V² pass (the oracle). pruned: an int8 pass bounds every key's
                       importance and only keys that could enter the report are evaluated exactly.
                       auto: pruned on the cpu provider for d_head >= 64 and V >= 20000, else dense
  -h, --help           this help
`;

class UsageError extends Error {}

interface CliArgs {
  model: string;
  heads: HeadRef[] | "all";
  keys: number;
  queries: number;
  outputs: number;
  priors: string;
  json: boolean;
  ep: ExecutionProvider[];
  blockBytes: number;
  revision: string;
  strategy: Strategy;
}

export function parseArgs(argv: string[]): CliArgs | "help" {
  if (argv.length === 0 || argv.includes("-h") || argv.includes("--help")) return "help";
  const [cmd, ...rest] = argv;
  if (cmd !== "analyze") throw new UsageError(`unknown command "${cmd}"; the command is "analyze" (see --help)`);
  const out: CliArgs = {
    model: DEFAULT_MODEL_DIR, heads: [], keys: DEFAULT_SIZES.nKeys, queries: DEFAULT_SIZES.nQueries,
    outputs: DEFAULT_SIZES.nOutputs, priors: "bundled", json: false, ep: [...DEFAULT_EP_PREFERENCE], blockBytes: DEFAULT_BLOCK_BYTES, revision: "main", strategy: DEFAULT_STRATEGY,
  };
  let layer: number | undefined, head: number | undefined, all = false;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const int = (min: number) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag} must be an integer ≥ ${min} (got "${v}")`);
      return Number(v);
    };
    switch (flag) {
      case "--model": out.model = value(); break;
      case "--revision": out.revision = value(); break;
      case "--strategy": {
        const v = value();
        if (!STRATEGIES.includes(v as Strategy)) throw new UsageError(`--strategy must be ${STRATEGIES.map((x) => `"${x}"`).join(", ").replace(/, ([^,]*)$/, " or $1")} (got "${v}")`);
        out.strategy = v as Strategy;
        break;
      }
      case "--layer": layer = int(0); break;
      case "--head": head = int(0); break;
      case "--all": all = true; break;
      case "--keys": out.keys = int(1); break;
      case "--queries": out.queries = int(0); break;
      case "--outputs": out.outputs = int(0); break;
      case "--priors": out.priors = value(); break;
      case "--json": out.json = true; break;
      case "--block-mb": out.blockBytes = int(1) * 1024 * 1024; break;
      case "--ep": {
        const eps = value().split(",").map((s) => s.trim()).filter(Boolean);
        const bad = eps.find((e) => !KNOWN_EPS.includes(e as ExecutionProvider));
        if (bad || eps.length === 0) throw new UsageError(`--ep: unknown execution provider "${bad ?? ""}"; choose from ${KNOWN_EPS.join(", ")}`);
        out.ep = eps as ExecutionProvider[];
        break;
      }
      default: throw new UsageError(`unknown option "${flag}" (see --help)`);
    }
  }
  if (all && (layer !== undefined || head !== undefined)) throw new UsageError("use either --all or --layer/--head, not both");
  if (!all && (layer === undefined || head === undefined)) throw new UsageError("say which head: --layer L --head H, or --all");
  out.heads = all ? "all" : [{ layer: layer!, head: head! }];
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs | "help";
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`head-lens: ${errorMessage(e)}\n`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const client = new EngineClient({
    epPreference: args.ep, blockBytes: args.blockBytes, mediaDir: join(PACKAGE_ROOT, "media"),
    threads: availableParallelism(), workerPath: join(__dirname, "worker.js"),
    log: (m) => process.env.HEAD_LENS_VERBOSE && process.stderr.write(`head-lens: ${m}\n`),
  });
  const showProgress = !args.json && process.stderr.isTTY;
  try {
    const modelDir = await resolveModel(args);
    let model = "", ep = "";
    const reports: HeadReport[] = await client.analyze(
      { modelDir, heads: args.heads, strategy: args.strategy, priors: parsePriorSpec(args.priors), sizes: { nKeys: args.keys, nQueries: args.queries, nOutputs: args.outputs } },
      {
        onEvent: (ev) => {
          if (ev.type === "started") ({ model, ep } = ev);
          if (ev.type === "progress" && showProgress) process.stderr.write(`\r${(100 * ev.fraction).toFixed(0).padStart(3)}%  ${headName(ev.layer, ev.head)}`);
          if (ev.type === "head" && !args.json) {
            if (showProgress) process.stderr.write("\r\x1b[K");
            process.stdout.write(formatHeadReport(ev.report));
          }
        },
      },
    );
    if (args.json) {
      const out: HeadReport | ModelReport = args.heads === "all" ? { model, ep, heads: reports } : reports[0];
      process.stdout.write(JSON.stringify(out) + "\n");
    }
    return 0;
  } catch (e) {
    if (showProgress) process.stderr.write("\r\x1b[K");
    process.stderr.write(`head-lens: ${errorMessage(e).split("\n")[0]}\n`);
    return 1;
  } finally {
    await client.dispose();
  }
}

/** Folder as is; a .pth converted (cached); a hub name downloaded into the HF cache, then converted. */
async function resolveModel(args: CliArgs): Promise<string> {
  const path = resolve(args.model);
  if (existsSync(path) && statSync(path).isDirectory()) return path;
  const storage = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "head-lens");
  if (existsSync(path) && path.endsWith(".pth")) return prepareLocalPth(path, storage);
  const spec = hubModel(args.model);
  if (!spec && /[\\/]|^\./.test(args.model)) {
    throw new HeadLensError(`model folder ${path} does not exist (expected a folder with config.json and model.safetensors, or a .pth file)`, "model.missing");
  }
  if (!spec) {
    throw new HeadLensError(`model "${args.model}" is neither a folder, a .pth file, nor a hub model (${HUB_MODELS.map((m) => m.name).join(", ")})`, "model.missing");
  }
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  return prepareHubModel(spec, new HubClient(hubOptionsFromEnv()), storage, {
    revision: args.revision,
    onStep: (step) => process.stderr.write(`${tty ? "\r\x1b[K" : ""}head-lens: ${step}${tty ? "" : "\n"}`),
    onProgress: (p) => {
      const now = Date.now();
      if (!tty || (now - lastDraw < 100 && p.received < p.total)) return;
      lastDraw = now;
      const pct = (100 * p.received) / p.total;
      const bar = "#".repeat(Math.round(pct / 4)).padEnd(25, ".");
      process.stderr.write(`\r\x1b[K${p.file} [${bar}] ${pct.toFixed(0)} % ${(p.received / 2 ** 20).toFixed(1)}/${(p.total / 2 ** 20).toFixed(1)} MiB ${(p.bytesPerSecond / 2 ** 20).toFixed(1)} MiB/s`);
    },
  }).finally(() => tty && process.stderr.write("\r\x1b[K"));
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
