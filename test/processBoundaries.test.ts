/**
 * The folders are the processes: the CLI's main thread never loads onnxruntime (only the engine
 * worker does), src/protocol imports only types from outside itself, src/core imports neither
 * vscode nor onnxruntime, and no source file grows past ~400 lines.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO_ROOT, tempDir } from "./support/engine";

const CLI = join(REPO_ROOT, "dist", "cli.js");
const SPY = join(REPO_ROOT, "test", "support", "mainThreadModules.js");

function mainThreadModules(args: string[]): { requested: string[]; cached: string[]; status: number | null } {
  const log = join(tempDir(), "modules.json");
  const r = spawnSync(process.execPath, ["-r", SPY, CLI, ...args], { encoding: "utf8", env: { ...process.env, HEAD_LENS_MODULE_LOG: log } });
  return { ...JSON.parse(readFileSync(log, "utf8")), status: r.status };
}

test("the CLI's main thread does not load onnxruntime-node, for --help or a full analysis", () => {
  const help = mainThreadModules(["analyze", "--help"]);
  assert.equal(help.status, 0);
  assert.deepEqual(help, { requested: [], cached: [], status: 0 });
  const full = mainThreadModules(["analyze", "--model", join(REPO_ROOT, "models", "demo-attn-1l"), "--layer", "0", "--head", "1", "--keys", "2"]);
  assert.equal(full.status, 0, "the analysis ran");
  assert.deepEqual([...full.requested, ...full.cached], [], "onnxruntime-node was loaded on the main thread");
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}
const imports = (file: string) => [...readFileSync(file, "utf8").matchAll(/^import\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)].map((m) => ({ typeOnly: !!m[1], from: m[2] }));

test("src/protocol imports only types from outside it; src/core imports neither vscode nor onnxruntime", () => {
  const bad: string[] = [];
  for (const f of sources(join(REPO_ROOT, "src", "protocol"))) {
    for (const i of imports(f)) if (!i.typeOnly && !i.from.startsWith("./")) bad.push(`${relative(REPO_ROOT, f)}: value import from ${i.from}`);
  }
  for (const f of sources(join(REPO_ROOT, "src", "core"))) {
    for (const i of imports(f)) if (/^(vscode|onnxruntime-node)$/.test(i.from) || i.from.includes("/worker/") || i.from.includes("/host/")) bad.push(`${relative(REPO_ROOT, f)}: imports ${i.from}`);
  }
  assert.deepEqual(bad, []);
});

test("no source file over 400 lines", () => {
  const long = [...sources(join(REPO_ROOT, "src")), ...sources(join(REPO_ROOT, "webview"))]
    .map((f) => ({ f: relative(REPO_ROOT, f), n: readFileSync(f, "utf8").split("\n").length }))
    .filter((x) => x.n > 400);
  assert.deepEqual(long, []);
});
