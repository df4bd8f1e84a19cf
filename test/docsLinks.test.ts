/**
 * The README is a front page and the reference lives in docs/: every relative link and image of
 * README.md and docs/*.md must point at a file of the repository, and every #anchor at a heading
 * of its page (GitHub's slugs). Also: the front page stays short, every setting is documented, and
 * the walkthrough's buttons, completion events and media name things that exist.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { TABLE_BEGIN, TABLE_END } from "../bench/table";
import { REPO_ROOT } from "./support/engine";

const PAGES = [
  "README.md",
  ...readdirSync(join(REPO_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f)),
];

/** The page's text outside fenced code blocks and inline code (links there are examples, not links). */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/**
 * GitHub's heading anchors (github-slugger's rule): lower case, everything but letters, digits,
 * spaces, hyphens and underscores dropped, spaces to hyphens, repeats numbered -1, -2, …
 * Written here because no markdown library is among the project's dependencies.
 */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  for (const m of md.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** [text](target) and ![alt](target), targets without a scheme. */
function relativeLinks(md: string): string[] {
  const links = [...prose(md).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
  return links.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

test("the slug rule gives GitHub's anchors", () => {
  assert.deepEqual(
    [...anchors("# The CLI (`head-lens`)\n## Composition paths (`--via`)\n## A head's direct path\n## Two\n## Two\n")],
    ["the-cli-head-lens", "composition-paths---via", "a-heads-direct-path", "two", "two-1"],
  );
  assert.deepEqual(relativeLinks("[a](x.md#y) ![b](s.png) [c](https://e.org) `[d](no.md)`\n```\n[e](no.md)\n```\n"), ["x.md#y", "s.png"]);
});

test("every relative link and image of the README and docs/ resolves, anchors included", () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const file = join(REPO_ROOT, page);
    const md = readFileSync(file, "utf8");
    for (const link of relativeLinks(md)) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      if (relative(REPO_ROOT, target).startsWith("..")) broken.push(`${page}: ${link} leaves the repository`);
      else if (!existsSync(target)) broken.push(`${page}: ${link} (no such file)`);
      else if (anchor !== undefined) {
        if (statSync(target).isDirectory() || !target.endsWith(".md")) broken.push(`${page}: ${link} (an anchor into a non-markdown file)`);
        else if (!anchors(readFileSync(target, "utf8")).has(anchor)) broken.push(`${page}: ${link} (no heading #${anchor})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test("the README is a front page: short, with the two commands, and it links every page of docs/", () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  // The generated performance table (bench/table.ts) takes its rows from bench:all: the rest stays short.
  const table = readme.slice(readme.indexOf(TABLE_BEGIN), readme.indexOf(TABLE_END)).split("\n").length;
  assert.ok(readme.split("\n").length - table <= 155, `README.md has ${readme.split("\n").length - table} lines besides the table`);
  assert.match(readme, /```sh\nnpm ci && npm run build && node dist\/cli\.js analyze --all\n```/);
  assert.match(readme, /```sh\nnpm ci && npm test\n```/);
  for (const page of PAGES.filter((p) => p.startsWith("docs") && p !== join("docs", "README.md")))
    assert.ok(readme.includes(`](${page})`), `README links ${page}`);
});

test("docs/settings.md names every setting package.json declares", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  const doc = readFileSync(join(REPO_ROOT, "docs", "settings.md"), "utf8");
  for (const key of Object.keys(pkg.contributes.configuration.properties)) assert.ok(doc.includes(`\`${key}\``), key);
});

test("the walkthrough: each step's button is a contributed command, its completion event that command, its media a packaged file", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  const [walkthrough] = pkg.contributes.walkthroughs;
  assert.equal(walkthrough.steps.length, 6);
  for (const step of walkthrough.steps) {
    const buttons = [...step.description.matchAll(/\]\(command:([\w.]+)\)/g)].map((m) => m[1]);
    assert.equal(buttons.length, 1, `${step.id}: one button`);
    assert.ok(commands.has(buttons[0]), `${step.id}: ${buttons[0]} is contributed`);
    assert.deepEqual(step.completionEvents, [`onCommand:${buttons[0]}`]);
    const media = step.media.markdown ?? step.media.image;
    const files = typeof media === "string" ? [media] : Object.values(media as Record<string, string>);
    for (const f of files) {
      assert.ok(existsSync(join(REPO_ROOT, f)), `${step.id}: ${f} exists`);
      assert.match(f, /^(media|docs\/screenshots)\//, `${step.id}: ${f} goes into the .vsix (scripts/vscodeignore.template)`);
    }
  }
  // The buttons' commands are registered by the extension (src/host/extension/walkthrough.ts).
  const source = readFileSync(join(REPO_ROOT, "src", "host", "extension", "walkthrough.ts"), "utf8");
  for (const step of walkthrough.steps) assert.match(source, new RegExp(`"headLens\\.tour\\.${step.id}"`));
});
