/**
 * Benchmark: a whole real-size model through the CLI, as a user runs it — `head-lens analyze --all`
 * on a 2-layer × 8-head model (V = 48 262, d_model 512, d_head 64; bench/realSizeModel.ts), process
 * start and weight loading included — with `auto` (the pruned strategy on the CPU) against
 * `--strategy dense` in the same run, alternating. Medians, peak RSS (from /usr/bin/time where there
 * is one). Exits non-zero unless every run's JSON is byte-identical.
 *   npm run bench:model [-- --kind trained-like|isotropic] [--reps 3] [--dense-reps 1] [--dir DIR]
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/support/engine";
import { median, record } from "./record";
import { RealSizeKind, writeRealSizeModel } from "./realSizeModel";

const arg = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const KIND = arg("--kind", "trained-like") as RealSizeKind,
  REPS = Number(arg("--reps", "3")),
  DENSE_REPS = Number(arg("--dense-reps", "1"));
const DIR = arg("--dir", join(tmpdir(), `head-lens-bench-${KIND}-48k-2l`));
const TIME = "/usr/bin/time";

interface Run {
  seconds: number;
  rssMiB?: number;
  json: string;
}

function cli(strategy: "auto" | "dense"): Run {
  const args = [
    join(REPO_ROOT, "dist", "cli.js"),
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
    ? spawnSync(TIME, ["-f", "HEADLENS_RSS_KB %M", process.execPath, ...args], { encoding: "utf8", maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0)
    throw new Error(`head-lens analyze --strategy ${strategy} failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
  const kb = /HEADLENS_RSS_KB (\d+)/.exec(r.stderr ?? "")?.[1];
  return { seconds, rssMiB: kb ? Number(kb) / 1024 : undefined, json: r.stdout };
}

function main(): void {
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
  const auto: Run[] = [],
    dense: Run[] = [];
  // Dense runs go between auto runs, so a change in the machine's speed hits both.
  for (let i = 0; i < REPS; i++) {
    auto.push(cli("auto"));
    if (i < DENSE_REPS) dense.push(cli("dense"));
  }
  const secs = (rs: Run[]) => rs.map((r) => r.seconds.toFixed(2)).join(", ");
  const rss = (rs: Run[]) => (rs[0].rssMiB === undefined ? "n/a" : `${Math.max(...rs.map((r) => r.rssMiB!)).toFixed(0)} MiB`);
  console.log(`  auto (pruned): median ${median(auto.map((r) => r.seconds)).toFixed(2)} s  [${secs(auto)}], peak RSS ${rss(auto)}`);
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
  if (KIND === "trained-like" && Number.isFinite(peakRss))
    record({ id: "model.rss", what: "its peak RSS", value: peakRss, unit: "MiB", goal: "≤ 800 MiB", met: peakRss <= 800 });
  const same = [...auto, ...dense].every((r) => r.json === auto[0].json);
  console.log(`  JSON of all ${auto.length + dense.length} runs byte-identical: ${same ? "yes" : "NO"}`);
  if (!same) process.exit(1);
}

main();
