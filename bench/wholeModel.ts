/**
 * Benchmark: a whole real-size model through the CLI, as a user runs it — `head-lens analyze --all`
 * on a 2-layer × 8-head model (V = 48 262, d_model 512, d_head 64; bench/realSizeModel.ts), process
 * start and weight loading included — with `auto` (the pruned strategy on the CPU) against
 * `--strategy dense` in the same run, alternating. Medians, peak RSS (from /usr/bin/time where there
 * is one). Exits non-zero unless every run's JSON is byte-identical. `--baseline DIR` also runs
 * another build's CLI (DIR/cli.js, e.g. a copy of main's dist/) between the `auto` runs, for a
 * before/after on a shared machine; CPU seconds (user + sys) are printed beside the wall times, and
 * the sgemm rate before and after, with the floor it sets (the 16 heads' four V × d_model × d_head
 * products).
 *   npm run bench:model [-- --kind trained-like|isotropic] [--reps 3] [--dense-reps 1] [--dir DIR] [--baseline DIR]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { withMallocTunables } from "../src/host/cli/mallocTunables";
import { REPO_ROOT } from "../test/support/engine";
import { median, record, sgemmRate } from "./record";
import { RealSizeKind, writeRealSizeModel } from "./realSizeModel";

const arg = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const KIND = arg("--kind", "trained-like") as RealSizeKind,
  REPS = Number(arg("--reps", "3")),
  DENSE_REPS = Number(arg("--dense-reps", "1"));
const DIR = arg("--dir", join(tmpdir(), `head-lens-bench-${KIND}-48k-2l`));
const BASELINE = arg("--baseline", "");
const TIME = "/usr/bin/time";

interface Run {
  seconds: number;
  /** User + system CPU seconds of the process and its threads (from /usr/bin/time). */
  cpu?: number;
  rssMiB?: number;
  json: string;
}

function cli(strategy: "auto" | "dense", dist = join(REPO_ROOT, "dist")): Run {
  const args = [
    join(dist, "cli.js"),
    "analyze",
    "--model",
    join(DIR, "model"),
    "--all",
    "--priors",
    "uniform",
    "--json",
    "--strategy",
    strategy,
  ];
  const timed = existsSync(TIME);
  const t = performance.now();
  const r = timed
    ? spawnSync(TIME, ["-f", "HEADLENS_RSS_KB %M CPU %U %S", process.execPath, ...args], { encoding: "utf8", maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0)
    throw new Error(`head-lens analyze --strategy ${strategy} failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
  const m = /HEADLENS_RSS_KB (\d+) CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? "");
  return { seconds, cpu: m ? Number(m[2]) + Number(m[3]) : undefined, rssMiB: m ? Number(m[1]) / 1024 : undefined, json: r.stdout };
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, "dist", "cli.js"))) throw new Error("dist/cli.js is missing: run `npm run build` first");
  if (!existsSync(join(DIR, "model", "config.json"))) {
    console.log(`writing the ${KIND} model to ${DIR} …`);
    writeRealSizeModel(DIR, 2, KIND);
  }
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
  console.log(`${KIND} 48k, 2 × 8 heads (${DIR}), load ${load()}`);
  const rateBefore = await sgemmRate();
  const auto: Run[] = [],
    dense: Run[] = [],
    baseline: Run[] = [];
  // Dense and baseline runs go between auto runs, so a change in the machine's speed hits all.
  for (let i = 0; i < REPS; i++) {
    auto.push(cli("auto"));
    if (BASELINE) baseline.push(cli("auto", BASELINE));
    if (i < DENSE_REPS) dense.push(cli("dense"));
  }
  const rateAfter = await sgemmRate();
  const secs = (rs: Run[]) => rs.map((r) => r.seconds.toFixed(2)).join(", ");
  const rss = (rs: Run[]) => (rs[0].rssMiB === undefined ? "n/a" : `${Math.max(...rs.map((r) => r.rssMiB!)).toFixed(0)} MiB`);
  const cpu = (rs: Run[]) => (rs[0].cpu === undefined ? "" : `, CPU median ${median(rs.map((r) => r.cpu!)).toFixed(2)} s`);
  console.log(
    `  auto (pruned): median ${median(auto.map((r) => r.seconds)).toFixed(2)} s  [${secs(auto)}], peak RSS ${rss(auto)}${cpu(auto)}`,
  );
  if (baseline.length) {
    const b = median(baseline.map((r) => r.seconds));
    console.log(`  baseline auto (${BASELINE}): median ${b.toFixed(2)} s  [${secs(baseline)}], peak RSS ${rss(baseline)}${cpu(baseline)}`);
    console.log(`  this build / baseline: ${(median(auto.map((r) => r.seconds)) / b).toFixed(2)} (wall)`);
  }
  // The unavoidable products: per head W_E·W_Q, W_E·W_K, W_E·W_V and W_Uᵀ·W_Oᵀ, each V × d_model × d_head.
  const V = 48262,
    floorFlop = 2 * 8 * 4 * 2 * V * 512 * 64;
  console.log(
    `  sgemm 2048³ ${rateBefore.toFixed(0)} / ${rateAfter.toFixed(0)} GFLOP/s (before / after): the factor products' ` +
      `${(floorFlop / 1e9).toFixed(0)} GFLOP take ≥ ${(floorFlop / 1e9 / Math.max(rateBefore, rateAfter)).toFixed(2)} s at that rate`,
  );
  if (dense.length) {
    console.log(`  dense:         median ${median(dense.map((r) => r.seconds)).toFixed(2)} s  [${secs(dense)}], peak RSS ${rss(dense)}`);
    console.log(
      `  auto is ${(median(dense.map((r) => r.seconds)) / median(auto.map((r) => r.seconds))).toFixed(1)}× faster (load now ${load()})`,
    );
  }
  const a = median(auto.map((r) => r.seconds)),
    peakRss = Math.max(...auto.map((r) => r.rssMiB ?? NaN));
  const what = `whole ${KIND} 48k 2 × 8 model, \`analyze --all\` (CLI, load included)`;
  const peer = dense.length ? { name: "dense", value: median(dense.map((r) => r.seconds)) } : undefined;
  record({
    id: `model.${KIND}`,
    what,
    value: a,
    unit: "s",
    peer,
    goal: KIND === "trained-like" ? "≤ 4 s, ≥ 15× dense" : undefined,
    met: KIND === "trained-like" && peer ? a <= 4 && peer.value / a >= 15 : undefined,
  });
  if (KIND === "trained-like") {
    const loading = median([0, 1, 2].map(loadSeconds));
    console.log(`  loading + processing the weights in process: median ${loading.toFixed(2)} s`);
    record({
      id: "model.floor",
      what: "its floor: loading + processing the weights (warm, one process, as the CLI's) + the factor products at the sgemm rate; no process start",
      value: loading + floorFlop / 1e9 / Math.max(rateBefore, rateAfter),
      unit: "s",
    });
  }
  if (KIND === "trained-like" && Number.isFinite(peakRss))
    record({ id: "model.rss", what: "its peak RSS", value: peakRss, unit: "MiB", goal: "≤ 800 MiB", met: peakRss <= 800 });
  const all = [...auto, ...dense, ...baseline];
  const same = all.every((r) => r.json === auto[0].json);
  console.log(`  JSON of all ${all.length} runs byte-identical: ${same ? "yes" : "NO"}`);
  if (!same) process.exit(1);
}

/**
 * What every analysis pays before its first product: reading, decoding and processing the weights
 * (in place, as the engine does), in a fresh process with the CLI's allocator setting.
 */
function loadSeconds(): number {
  const mod = (p: string) => JSON.stringify(join(__dirname, "..", "src", p));
  const code =
    `const { processWeights } = require(${mod("core/processing")}), { loadLocalModel } = require(${mod("worker/loaders/localModel")});` +
    `const t = performance.now(); processWeights(loadLocalModel(${JSON.stringify(join(DIR, "model"))}).weights, undefined, true);` +
    `console.log((performance.now() - t) / 1000);`;
  const r = spawnSync(process.execPath, ["-e", code], { encoding: "utf8", env: withMallocTunables(process.env) });
  if (r.status !== 0) throw new Error(`loading ${DIR} failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

void main();
