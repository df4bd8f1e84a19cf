/**
 * Measures each hostile input of the issue end to end: `head-lens analyze --model <case>/model.pth`
 * with a wall-clock cap. Prints time, peak RSS (VmHWM of the CLI process, worker threads included),
 * the error's first line and whether a converted-cache entry was left behind. Linux only (/proc).
 *   npm run pretest && node out/bench/hostileInputs.js [--cap-s 60] [--cli dist/cli.js] [case ...]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hostileCases } from "../test/support/hostileInputs";

const ROOT = resolve(__dirname, "..", "..");

interface Measured {
  seconds: number;
  peakMb: number;
  exit: string;
  stderr: string;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function measure(argv: string[], env: NodeJS.ProcessEnv, capSeconds: number): Promise<Measured> {
  return new Promise((resolvePromise) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let peak = 0;
    let killed = false;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => (peak = Math.max(peak, peakRssMb(child.pid!))), 50);
    const cap = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, capSeconds * 1000);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      clearTimeout(cap);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      resolvePromise({ seconds, peakMb: peak, exit: killed ? `killed at ${capSeconds} s` : String(code ?? signal), stderr });
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const capIndex = args.indexOf("--cap-s");
  const capSeconds = capIndex >= 0 ? Number(args.splice(capIndex, 2)[1]) : 60;
  const cliIndex = args.indexOf("--cli");
  const cliPath = cliIndex >= 0 ? resolve(args.splice(cliIndex, 2)[1]) : join(ROOT, "dist", "cli.js");
  const only = new Set(args);
  const work = mkdtempSync(join(tmpdir(), "head-lens-hostile-"));
  console.log(`| case | input | time (s) | peak RSS (MB) | exit | first line of the error | cache entries left |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const c of hostileCases()) {
    if (only.size && !only.has(c.name)) continue;
    const dir = join(work, c.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(c.config));
    writeFileSync(join(dir, "model.pth"), c.pth);
    const cache = join(dir, "xdg-cache");
    const cli = [cliPath, "analyze", "--model", join(dir, "model.pth"), "--layer", "0", "--head", "0", "--priors", "uniform"];
    const m = await measure(cli, { ...process.env, XDG_CACHE_HOME: cache }, capSeconds);
    const message = m.stderr.split("\n").find((l) => l.trim() !== "") ?? "";
    const converted = join(cache, "head-lens", "converted");
    const left = existsSync(converted) ? readdirSync(converted).length : 0;
    const size = `${(c.pth.length / 1024).toFixed(0)} KB`;
    console.log(
      `| ${c.name} | ${size} | ${m.seconds.toFixed(2)} | ${m.peakMb.toFixed(0)} | ${m.exit} | ${message.split(dir).join("<case>").slice(0, 200)} | ${left} |`,
    );
  }
  rmSync(work, { recursive: true, force: true });
}

void main();
