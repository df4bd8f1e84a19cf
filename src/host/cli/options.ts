/**
 * The CLI's option parsing, shared by its commands: each declares its flags; the common ones
 * (model, prior, engine) are parsed the same way everywhere. Bad arguments are UsageErrors (exit 2).
 */
import { join, resolve } from "node:path";
import { parsePriorSpec, PriorSpec } from "../../core/priorSpec";
import {
  BLOCK_MB_LIMITS,
  DEFAULT_BLOCK_MB,
  DEFAULT_EP_PREFERENCE,
  DEFAULT_STRATEGY,
  ExecutionProvider,
  KNOWN_EPS,
  MIB,
  Strategy,
  STRATEGIES,
} from "../../protocol/engine";

export class UsageError extends Error {}

const PACKAGE_ROOT = resolve(__dirname, "..");
export const DEFAULT_MODEL_DIR = join(PACKAGE_ROOT, "models", "demo-attn-2l");
export const MEDIA_DIR = join(PACKAGE_ROOT, "media");
export const DEFAULT_BLOCK_BYTES = DEFAULT_BLOCK_MB * MIB;

export interface CommonOptions {
  model: string;
  revision: string;
  prior: PriorSpec;
  json: boolean;
  ep: ExecutionProvider[];
  blockBytes: number;
  strategy: Strategy;
  /** A training checkpoint of the model (its label: tokens or steps), instead of the final weights. */
  checkpoint?: number;
  /** With "cuda" in `ep`: download onnxruntime's CUDA provider if it is not installed. */
  installCuda: boolean;
}

export const COMMON_HELP = `  --model <m>          a model folder (config.json + model.safetensors), a TransformerLens .pth
                       (config.json beside it), or a hub model (attn-only-1l … attn-only-4l,
                       arena-attn-only-2l, or its repo name; downloaded once into the Hugging Face
                       cache); default: bundled demo-attn-2l
  --revision R         hub revision for a hub model (default main)
  --checkpoint N       the model's training checkpoint labelled N (tokens or steps: see "head-lens
                       timeline"), from the hub or the model folder's checkpoints/
  --json               machine-readable output
  --ep LIST            execution-provider preference, comma-separated from ${KNOWN_EPS.join(",")} (default cpu)
  --install-cuda       with --ep cuda: download onnxruntime's CUDA provider (Linux x64, a few hundred MB,
                       checksummed) into Head Lens's cache if it is not there; needs an NVIDIA driver,
                       CUDA 12 and cuDNN 9 (docs/gpu.md)
  --block-mb N         memory for one streamed block, in MiB (default ${DEFAULT_BLOCK_MB})
  -h, --help           this help
`;

/** Reads argv with the command's own flags (a handler per flag) after the common ones. */
export function parseOptions(argv: string[], own: (flag: string, take: Taker) => boolean): CommonOptions {
  const out: CommonOptions = {
    model: DEFAULT_MODEL_DIR,
    revision: "main",
    prior: "bundled",
    json: false,
    ep: [...DEFAULT_EP_PREFERENCE],
    blockBytes: DEFAULT_BLOCK_BYTES,
    strategy: DEFAULT_STRATEGY,
    installCuda: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const take = taker(argv, () => ++i, flag);
    if (own(flag, take)) continue;
    switch (flag) {
      case "--model":
        out.model = take.value();
        break;
      case "--revision":
        out.revision = take.value();
        break;
      case "--checkpoint":
        out.checkpoint = take.int(0);
        break;
      case "--priors":
        out.prior = parsePriorSpec(take.value());
        break;
      case "--json":
        out.json = true;
        break;
      case "--install-cuda":
        out.installCuda = true;
        break;
      case "--block-mb":
        out.blockBytes = take.int(BLOCK_MB_LIMITS.min) * MIB;
        break;
      case "--strategy": {
        const v = take.value();
        if (!STRATEGIES.includes(v as Strategy))
          throw new UsageError(
            `--strategy must be ${STRATEGIES.map((x) => `"${x}"`)
              .join(", ")
              .replace(/, ([^,]*)$/, " or $1")} (got "${v}")`,
          );
        out.strategy = v as Strategy;
        break;
      }
      case "--ep": {
        const eps = take
          .value()
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = eps.find((e) => !KNOWN_EPS.includes(e as ExecutionProvider));
        if (bad || eps.length === 0)
          throw new UsageError(`--ep: unknown execution provider "${bad ?? ""}"; choose from ${KNOWN_EPS.join(", ")}`);
        out.ep = eps as ExecutionProvider[];
        break;
      }
      default:
        throw new UsageError(`unknown option "${flag}" (see --help)`);
    }
  }
  if (out.installCuda && !out.ep.includes("cuda")) throw new UsageError('--install-cuda needs "cuda" in --ep (e.g. --ep cuda,cpu)');
  return out;
}

export interface Taker {
  value(): string;
  int(min: number): number;
}

function taker(argv: string[], next: () => number, flag: string): Taker {
  const value = () => {
    const v = argv[next()];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  return {
    value,
    int: (min) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag} must be an integer ≥ ${min} (got "${v}")`);
      return Number(v);
    },
  };
}
