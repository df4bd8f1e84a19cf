/**
 * Every headline benchmark in one run, each beside its peer: prints every figure with its peer and
 * ratio, writes bench/results/all.json and regenerates README's performance table from it.
 *   npm run bench:all [-- --quick] [--only model,circuits,…] [--soak] [--no-readme]
 * (--soak reruns the 500-run memory soak in VS Code: needs `npm run bench:soak`'s set-up first.)
 * Each bench is its own process (as a user runs the CLI, with its glibc malloc tunables; no state shared between them); they report
 * their figures through HEAD_LENS_BENCH_RECORD (bench/record.ts).
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../test/support/engine";
import { Figure, sgemmRate } from "./record";
import { soakFigures, Verdict } from "./soakVerdict";
import { withMallocTunables } from "../src/host/cli/mallocTunables";
import { AllResults, performanceTable, withTable } from "./table";

const QUICK = process.argv.includes("--quick");
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1].split(",") : undefined;

/** Name → the bench's script and arguments; the table keeps this order. */
const BENCHES: [string, string, string[]][] = [
  ["model", "wholeModel.js", ["--kind", "trained-like", "--reps", QUICK ? "1" : "3", "--dense-reps", "1"]],
  ["circuits", "circuits.js", ["--reps", QUICK ? "1" : "3"]],
  ["circuits", "circuits.js", ["--reps", QUICK ? "1" : "3", "--kind", "trained-like"]],
  ["isotropic", "prunedHead.js", ["--kinds", "isotropic", "--heads", QUICK ? "1" : "3", "--no-demo", "--no-numpy"]],
  ["attention", "attention.js", ["--repeats", QUICK ? "2" : "5"]],
  ["explain", "explain.js", ["--repeats", QUICK ? "3" : "15"]],
  ["whatif", "whatIf.js", ["--repeats", QUICK ? "2" : "5"]],
  ["timeline", "timeline.js", ["--checkpoints", "16", "--repeats", QUICK ? "1" : "3"]],
];
/** 500 runs in real VS Code take ≈ 15–35 min here: run with --soak, else the last bench:soak's figures are shown, so labelled. */
const SOAK = process.argv.includes("--soak");
const SOAK_RESULT = join(REPO_ROOT, "bench", "results", "soak-cpu2.json");

function runBench(script: string, args: string[], recordFile: string): void {
  console.log(`\n$ node out/bench/${script} ${args.join(" ")}`);
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "out", "bench", script), ...args], {
    stdio: "inherit",
    // The allocator the CLI gives itself (cli/mallocTunables.ts) for every bench and its peers (torch runs with tcmalloc).
    env: { ...withMallocTunables(process.env), HEAD_LENS_BENCH_RECORD: recordFile },
  });
  if (r.status !== 0) throw new Error(`bench ${script} failed (exit ${r.status})`);
}

async function main(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, "dist", "cli.js"))) throw new Error("dist/cli.js is missing: run `npm run build` first");
  const recordFile = join(mkdtempSync(join(tmpdir(), "head-lens-bench-all-")), "figures.jsonl");
  writeFileSync(recordFile, "");
  const before = await sgemmRate();
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads; sgemm ${before.toFixed(0)} GFLOP/s`);
  for (const [name, script, args] of BENCHES) if (!ONLY || ONLY.includes(name)) runBench(script, args, recordFile);
  if (SOAK && (!ONLY || ONLY.includes("soak"))) runBench("soak.js", ["--runs", "500", "--json", SOAK_RESULT], recordFile);
  else if (!ONLY || ONLY.includes("soak")) {
    const last = JSON.parse(readFileSync(SOAK_RESULT, "utf8")) as { date: string; runs: number; verdict: Verdict };
    const when = last.date.slice(0, 10);
    for (const f of soakFigures(last.verdict, last.runs, `bench:soak of ${when}, not rerun`))
      appendFileSync(recordFile, JSON.stringify(f) + "\n");
  }
  const after = await sgemmRate();
  const figures: Figure[] = readFileSync(recordFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Figure);
  const result: AllResults = {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus()[0].model.trim()}, ${availableParallelism()} threads`,
    sgemm: [before, after],
    figures,
  };
  const table = performanceTable(result);
  console.log(`\n${table}`);
  if (ONLY || QUICK || process.argv.includes("--no-readme"))
    return console.log("\n(partial or quick run: README and bench/results/all.json left as they were)");
  writeFileSync(join(REPO_ROOT, "bench", "results", "all.json"), JSON.stringify(result, null, 1) + "\n");
  const readme = join(REPO_ROOT, "README.md");
  writeFileSync(readme, withTable(readFileSync(readme, "utf8"), table));
  console.log("\nwrote bench/results/all.json and README's performance table");
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
