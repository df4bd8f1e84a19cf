/**
 * The folders are the processes (ARCHITECTURE.md): every rule the document states about imports is
 * checked here, on the import graph TypeScript itself reads from the sources (imports, re-exports,
 * type imports, require and import() calls):
 * - src/core is pure: it imports only itself (no vscode, no onnxruntime, no node, no other folder);
 * - src/protocol imports only types from outside itself, and only from src/core;
 * - src/host, src/worker and webview/ talk only through src/protocol (all three may use src/core):
 *   the host never imports the worker or a page, a page never the host or the worker, the worker never
 *   the host or a page; only the worker loads onnxruntime;
 * - src/host has no import circle;
 * - webview/ is one folder per page (each with its main.ts, each listed in pages.ts) plus shared/;
 *   every stylesheet a page names is in media/, and every media/ sheet is named;
 * - no source file grows past 400 lines, no line past 160 characters;
 * and the CLI's main thread never loads onnxruntime (only the engine worker does).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { PAGES } from "../src/host/extension/pages";
import { REPO_ROOT, tempDir } from "./support/engine";

const CLI = join(REPO_ROOT, "dist", "cli.js");
const SPY = join(REPO_ROOT, "test", "support", "mainThreadModules.js");

function mainThreadModules(args: string[]): { requested: string[]; cached: string[]; status: number | null } {
  const log = join(tempDir(), "modules.json");
  const r = spawnSync(process.execPath, ["-r", SPY, CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, HEAD_LENS_MODULE_LOG: log },
  });
  return { ...JSON.parse(readFileSync(log, "utf8")), status: r.status };
}

test("the CLI's main thread does not load onnxruntime-node, for --help or a full analysis", () => {
  const help = mainThreadModules(["analyze", "--help"]);
  assert.equal(help.status, 0);
  assert.deepEqual(help, { requested: [], cached: [], status: 0 });
  const full = mainThreadModules([
    "analyze",
    "--model",
    join(REPO_ROOT, "models", "demo-attn-1l"),
    "--layer",
    "0",
    "--head",
    "1",
    "--keys",
    "2",
  ]);
  assert.equal(full.status, 0, "the analysis ran");
  assert.deepEqual([...full.requested, ...full.cached], [], "onnxruntime-node was loaded on the main thread");
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    if (n === "node_modules") return [];
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  from: string;
  /** The file it resolves to (relative to the repository), or the package name. */
  target: string;
  typeOnly: boolean;
}

/** Every import of a file, as TypeScript reads it; relative ones resolved to repository paths. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (from: string, typeOnly: boolean) => {
    let target = from;
    if (from.startsWith(".")) {
      const base = resolve(dirname(file), from);
      target = relative(REPO_ROOT, [`${base}.ts`, join(base, "index.ts"), base].find((p) => existsSync(p)) ?? base);
    }
    out.push({ from, target, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
      add(node.moduleSpecifier.text, typeOnly);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))
    ) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

const folderOf = (target: string) =>
  target.startsWith("src/core/")
    ? "core"
    : target.startsWith("src/protocol/")
      ? "protocol"
      : target.startsWith("src/host/")
        ? "host"
        : target.startsWith("src/worker/")
          ? "worker"
          : target.startsWith("webview/")
            ? "webview"
            : target.startsWith("src/") || target.startsWith("test/")
              ? "other"
              : "package";

const ALL = ["src", "webview"].flatMap((d) => sources(join(REPO_ROOT, d)));
const GRAPH = new Map(ALL.map((f) => [relative(REPO_ROOT, f), importsOf(f)]));

test("the import graph reads what the sources import (the checker itself works)", () => {
  const ext = GRAPH.get("src/host/extension/extension.ts")!;
  assert.ok(
    ext.some((i) => i.target === "src/host/extension/services.ts" && i.typeOnly),
    "a type import is seen as one",
  );
  assert.ok(
    GRAPH.get("src/worker/ortModule.ts")!.some((i) => i.from === "onnxruntime-node" && !i.typeOnly),
    "require() is seen",
  );
  assert.ok(
    GRAPH.get("src/worker/loaders/hfTokenizer.ts")!.some((i) => i.from === "@huggingface/tokenizers" && i.typeOnly),
    "typeof import() is seen",
  );
});

test("each process imports only its own folder, src/protocol and src/core; src/core only itself; src/protocol only types", () => {
  const allowed: Record<string, string[]> = {
    core: ["core"],
    protocol: ["protocol", "core"],
    host: ["host", "protocol", "core"],
    worker: ["worker", "protocol", "core"],
    webview: ["webview", "protocol", "core"],
  };
  const bad: string[] = [];
  for (const [file, imports] of GRAPH) {
    const from = folderOf(file);
    for (const i of imports) {
      const to = folderOf(i.target);
      if (to === "package") {
        if (from === "core" && !i.typeOnly) bad.push(`${file}: core imports the package ${i.from}`);
        if (/^(onnxruntime-node)$/.test(i.from) && from !== "worker") bad.push(`${file}: only the worker loads ${i.from}`);
        if (i.from === "vscode" && from !== "host") bad.push(`${file}: only the extension host imports vscode`);
        continue;
      }
      if (!allowed[from]?.includes(to)) bad.push(`${file}: ${from} imports ${i.target} (${to})`);
      else if (from === "protocol" && to !== "protocol" && !i.typeOnly) bad.push(`${file}: value import from ${i.target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("src/host has no import circle", () => {
  const host = [...GRAPH.keys()].filter((f) => f.startsWith("src/host/"));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const walk = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" → "));
      return;
    }
    state.set(f, "open");
    for (const i of GRAPH.get(f) ?? []) if (i.target.startsWith("src/host/")) walk(i.target, [...path, f]);
    state.set(f, "done");
  };
  for (const f of host) walk(f, []);
  assert.deepEqual(cycles, []);
  assert.ok(!host.some((f) => GRAPH.get(f)!.some((i) => i.target === "src/host/extension/extension.ts")), "nothing imports extension.ts");
});

test("webview/ is one folder per page plus shared/; pages.ts names each page's bundle and sheets, and every sheet", () => {
  const root = join(REPO_ROOT, "webview");
  const entries = readdirSync(root, { withFileTypes: true });
  assert.deepEqual(
    entries.filter((e) => !e.isDirectory()).map((e) => e.name),
    [],
    "no file at webview/'s root",
  );
  const pages = entries
    .map((e) => e.name)
    .filter((n) => n !== "shared")
    .sort();
  assert.deepEqual(
    Object.values(PAGES)
      .map((p) => p.script.replace(/\.js$/, ""))
      .sort(),
    pages,
    "pages.ts lists every page folder",
  );
  for (const p of pages) assert.ok(existsSync(join(root, p, "main.ts")), `webview/${p}/main.ts`);
  const sheets = readdirSync(join(REPO_ROOT, "media"))
    .filter((n) => n.endsWith(".css"))
    .sort();
  assert.deepEqual([...new Set(Object.values(PAGES).flatMap((p) => p.styles))].sort(), sheets, "every media/*.css is a page's sheet");
  assert.ok(
    Object.values(PAGES).every((p) => p.styles[0] === "base.css"),
    "every page starts from base.css",
  );
  const pageOf = (f: string) => f.split("/")[1];
  const crossing = [...GRAPH].flatMap(([f, imports]) =>
    f.startsWith("webview/")
      ? imports
          .filter((i) => i.target.startsWith("webview/") && pageOf(i.target) !== pageOf(f) && pageOf(i.target) !== "shared")
          .map((i) => `${f} imports ${i.target}`)
      : [],
  );
  assert.deepEqual(crossing, [], "a page imports only its own folder and shared/");
});

test("files stay readable: no source file over 400 lines, no line over 160 characters", () => {
  const files = [...ALL, ...["test", "bench", "scripts"].flatMap((d) => sources(join(REPO_ROOT, d)))];
  const long = files
    .map((f) => ({ f: relative(REPO_ROOT, f), n: readFileSync(f, "utf8").split("\n").length }))
    .filter((x) => x.n > 400 && !x.f.startsWith("test/"));
  assert.deepEqual(long, []);
  const wide = files.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .flatMap((l, i) => (l.length > 160 ? [`${relative(REPO_ROOT, f)}:${i + 1} (${l.length})`] : [])),
  );
  assert.deepEqual(wide, []);
});
