/**
 * The CLI starts itself once more with glibc's `glibc.malloc.hugetlb=1` tunable: malloc then asks
 * for transparent huge pages on its large mappings (`madvise`, the default THP mode of most
 * distributions). A real-size model allocates ≈ 0.7 GB of fresh V-sized arrays (the decoded
 * weights, the factors); each 4 KiB page costs a fault on first touch, ≈ 11 µs in a virtual
 * machine (WSL2, cloud boxes; measured here). With huge pages `analyze --all` of a 48k model faults
 * 2.3× less and runs ≈ 1.2 s faster (docs/benchmarks.md). Tunables are read only at process start,
 * and neither Node nor V8 can madvise an ArrayBuffer, so a second start (≈ 50 ms) is the only way.
 * `HEAD_LENS_HUGE_PAGES=0` turns it off; musl and other platforms never relaunch.
 */
import { spawn } from "node:child_process";

const TUNABLE = "glibc.malloc.hugetlb=1";
/** Set in the relaunched process's environment: it must not relaunch again, and it watches its parent. */
export const RELAUNCHED = "HEAD_LENS_CLI_RELAUNCHED";
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The environment with the tunable added to any the user set (also for benchmarks that load as the CLI does). */
export function withHugePages(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:${TUNABLE}` : TUNABLE };
}

function wanted(env: NodeJS.ProcessEnv): boolean {
  if (process.platform !== "linux" || env[RELAUNCHED] || env.HEAD_LENS_HUGE_PAGES === "0") return false;
  if ((env.GLIBC_TUNABLES ?? "").includes("glibc.malloc.hugetlb")) return false; // the user chose
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !!report?.header?.glibcVersionRuntime;
}

/**
 * Runs this CLI again with the tunable and resolves to its exit code (the child's signal is raised
 * here again), or returns undefined where this process should run the command itself. stdio is
 * shared, so pipes, `--text -` and EPIPE behave as without the relaunch.
 */
export function relaunchWithHugePages(argv: string[]): Promise<number> | undefined {
  const env = process.env;
  if (!wanted(env)) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv], {
    stdio: ["inherit", "inherit", "inherit", "ipc"], // the channel closes when this process dies, however it dies
    env: { ...withHugePages(env), [RELAUNCHED]: "1" },
  });
  const forward = (s: NodeJS.Signals) => child.kill(s);
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve) => {
    child.on("error", (e) => {
      process.stderr.write(`head-lens: could not start the CLI again with huge pages (${e.message}); set HEAD_LENS_HUGE_PAGES=0\n`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      resolve(code ?? 1);
    });
  });
}

/** In the relaunched process: stop when the parent is gone (SIGKILL, a crash), as the parent's own work would. */
export function exitWithParent(): void {
  if (!process.env[RELAUNCHED] || !process.channel) return;
  process.channel.unref(); // the channel must not keep a finished command alive
  process.on("disconnect", () => process.exit(129));
}
