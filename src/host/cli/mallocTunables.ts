/**
 * The CLI starts itself once more with glibc malloc tunables. A real-size model's load and analysis
 * allocate ≈ 0.7 GB of fresh V-sized arrays (the decoded weights, each head's V × d_head factors);
 * glibc serves large ones from new mappings and returns them on free, so every 4 KiB page faults on
 * first touch again: ≈ 11 µs a page in a virtual machine (WSL2, cloud boxes; measured here), ≈ 35 ms
 * per 12 MB factor. The tunables keep freed memory for reuse (one arena for every thread, blocks up
 * to 32 MiB from the heap, no trimming) and ask for transparent huge pages (`madvise`, most
 * distributions' default THP mode): `analyze --all` of a 48k model faults 10× less and runs ≈ 1 s
 * faster, at the same peak RSS (docs/benchmarks.md). Tunables are read only at process start, and
 * neither Node nor V8 can tune an ArrayBuffer's memory, so a second start (≈ 50 ms) is the only way.
 * `HEAD_LENS_MALLOC_TUNABLES=0` turns it off; a tunable the user set in GLIBC_TUNABLES wins; musl and
 * other platforms never relaunch.
 */
import { spawn } from "node:child_process";

const TUNABLES: Record<string, string> = {
  "glibc.malloc.hugetlb": "1",
  "glibc.malloc.arena_max": "1",
  "glibc.malloc.mmap_threshold": String(32 << 20), // glibc's largest
  "glibc.malloc.trim_threshold": String(2 ** 31 - 1),
};
/** Set in the relaunched process's environment: it must not relaunch again, and it watches its parent. */
export const RELAUNCHED = "HEAD_LENS_CLI_RELAUNCHED";
const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The environment with ours added to the tunables the user set (also for benchmarks that load as the CLI does). */
export function withMallocTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const theirs = (env.GLIBC_TUNABLES ?? "").split(":").filter(Boolean);
  const set = new Set(theirs.map((t) => t.split("=")[0]));
  const ours = Object.entries(TUNABLES)
    .filter(([k]) => !set.has(k))
    .map(([k, v]) => `${k}=${v}`);
  return { ...env, GLIBC_TUNABLES: [...theirs, ...ours].join(":") };
}

function wanted(env: NodeJS.ProcessEnv): boolean {
  if (process.platform !== "linux" || env[RELAUNCHED] || env.HEAD_LENS_MALLOC_TUNABLES === "0") return false;
  if (process.report) (process.report as { excludeNetwork?: boolean }).excludeNetwork = true; // the header is all we read: ≈ 6 ms instead of ≈ 11
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !!report?.header?.glibcVersionRuntime;
}

/**
 * Runs this CLI again with the tunables and resolves to its exit code (the child's signal is raised
 * here again), or returns undefined where this process should run the command itself. stdio is
 * shared, so pipes, the terminal and a reader that closes early (EPIPE) behave as without the relaunch.
 */
export function relaunchWithMallocTunables(argv: string[]): Promise<number> | undefined {
  const env = process.env;
  if (!wanted(env)) return undefined;
  // Node's own flags go along (--cpu-prof, --max-old-space-size…), but not an inspector: its port is the parent's.
  const flags = process.execArgv.filter((a) => !/^--inspect/.test(a));
  const child = spawn(process.execPath, [...flags, process.argv[1], ...argv], {
    stdio: ["inherit", "inherit", "inherit", "ipc"], // the channel closes when this process dies, however it dies
    env: { ...withMallocTunables(env), [RELAUNCHED]: "1" },
  });
  const forward = (s: NodeJS.Signals) => child.kill(s);
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve) => {
    child.on("error", (e) => {
      process.stderr.write(
        `head-lens: could not start the CLI again with malloc tunables (${e.message}); set HEAD_LENS_MALLOC_TUNABLES=0\n`,
      );
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
  process.on("disconnect", () => process.exit(129)); // 128 + SIGHUP: as a shell reports a hung-up command
}
