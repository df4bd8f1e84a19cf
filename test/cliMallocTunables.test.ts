/**
 * The CLI's second start with glibc malloc tunables (src/host/cli/mallocTunables.ts): the command
 * runs in a child that has them (a tunable the user set wins), answers exactly as without them, and
 * never outlives the process the user started (SIGKILL, SIGTERM).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { CLI, runCliAsync } from "./support/cliProcess";
import { withMallocTunables } from "../src/host/cli/mallocTunables";
import { tempDir } from "./support/engine";

const glibc =
  process.platform === "linux" &&
  !!(process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

/** The pids of a process's children (every thread's list). */
function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
}

test("the tunables: the user's own win, ours are added", () => {
  const ours =
    "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647";
  assert.equal(withMallocTunables({}).GLIBC_TUNABLES, ours);
  assert.equal(
    withMallocTunables({ GLIBC_TUNABLES: "glibc.malloc.arena_max=4:glibc.malloc.tcache_count=0", HOME: "/h" }).GLIBC_TUNABLES,
    "glibc.malloc.arena_max=4:glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=2147483647",
  );
  assert.equal(withMallocTunables({ HOME: "/h" }).HOME, "/h");
});

describe("the CLI's relaunch with malloc tunables", { skip: !glibc && "Linux with glibc only" }, () => {
  // A hub that accepts and never answers: the command stays busy until it is stopped.
  let hub: Server, env: NodeJS.ProcessEnv;
  before(async () => {
    hub = createServer(() => {});
    await new Promise<void>((r) => hub.listen(0, "127.0.0.1", r));
    const cache = tempDir("head-lens-relaunch-");
    env = {
      ...process.env,
      HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
      XDG_CACHE_HOME: cache,
      HF_HUB_CACHE: cache,
    };
    delete env.HEAD_LENS_MALLOC_TUNABLES;
    delete env.GLIBC_TUNABLES;
  });
  after(() => {
    hub.closeAllConnections();
    hub.close();
  });

  /** Starts a busy command; resolves once its relaunched child is running, with both pids. */
  async function busy(
    extra: NodeJS.ProcessEnv = {},
  ): Promise<{ parent: ReturnType<typeof spawn>; child: number; closed: Promise<[number | null, string | null]> }> {
    const parent = spawn(process.execPath, [CLI, "timeline", "--model", "attn-only-2l", "--checkpoints", "2"], {
      env: { ...env, ...extra },
      stdio: "ignore",
    });
    const closed = new Promise<[number | null, string | null]>((r) => parent.on("close", (c, s) => r([c, s])));
    let child = 0;
    await until("the relaunched CLI", () => ((child = childrenOf(parent.pid!)[0] ?? 0), child > 0));
    return { parent, child, closed };
  }

  const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");

  test("the command runs in a child with the tunables, and the child stops when the CLI is killed", async () => {
    const { parent, child, closed } = await busy();
    // glibc's tunable parser writes NULs into the variable in place: /proc shows only its first tunable.
    const environ = environOf(child);
    assert.ok(environ.includes("HEAD_LENS_CLI_RELAUNCHED=1"), "the child is the relaunched CLI");
    assert.ok(
      environ.some((e) => e.startsWith("GLIBC_TUNABLES=glibc.malloc.")),
      environ.filter((e) => e.startsWith("GLIBC")).join(),
    );
    parent.kill("SIGKILL"); // as a crash or `kill -9` would stop it
    await closed;
    await until("the child to stop after its parent's SIGKILL", () => !alive(child));
  });

  test("SIGTERM reaches the child, and the CLI exits by the same signal", async () => {
    const { parent, child, closed } = await busy();
    parent.kill("SIGTERM");
    assert.deepEqual(await closed, [null, "SIGTERM"]);
    assert.ok(!alive(child), "the child is gone");
  });

  test("answers, exit codes and stderr are the same with and without it", async () => {
    const off = { ...env, HEAD_LENS_MALLOC_TUNABLES: "0" };
    for (const args of [
      ["run", "--model", "demo-attn-2l", "--text", "the cat sat on the mat", "--top", "3"],
      ["analyze", "--model", "demo-attn-2l", "--layer", "9"],
    ]) {
      const [a, b] = [await runCliAsync(args, env), await runCliAsync(args, off)];
      assert.equal(a.status, b.status, args.join(" "));
      assert.equal(a.stdout, b.stdout, args.join(" "));
      assert.equal(a.stderr, b.stderr, args.join(" "));
    }
  });
});
