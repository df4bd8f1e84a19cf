/**
 * Model text in VS Code Markdown stays data: each hostile string, escaped by markdownText, comes out
 * of marked (the Markdown renderer VS Code uses, GFM on) as the very same text, with no element,
 * link or entity made from it — inline, inside emphasis, and in a table cell. The MarkdownStrings that
 * carry model text have theme icons off (VS Code then runs no icon pass around marked); iconText, for
 * quick picks and the status bar, is checked against VS Code's icon-label rule.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { iconText, markdownText, notificationText } from "../src/core/markdownText";
import { cutToken } from "../src/core/tokenDisplay";
import { HeadReport } from "../src/core/report";
import { headReportMarkdown } from "../src/core/reportExport";
import { HOSTILE_TOKENS } from "./support/hostileModel";

// marked is ESM only; node ≥ 20.19 requires it from this CommonJS build. It is the renderer VS Code's
// Markdown uses (a devDependency here, for this test only).
type MarkedModule = typeof import("marked", { with: { "resolution-mode": "import" } });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { marked } = require("marked") as MarkedModule;

const HOSTILE = [
  ...HOSTILE_TOKENS,
  "'\\'\"><svg onload=alert(3)>'",
  '[x](command:workbench.action.closeWindow "t")',
  "<https://example.com>",
  "https://example.com/a_b_c",
  "www.example.com",
  "a | b | c",
  "# heading",
  "1. list",
  "1) list",
  "$(a~b) $(c~d)",
  "$(",
  "$(x y)",
  "- item",
  "> quote",
  "  indented    four",
  "___",
  "~~strike~~",
  "&#60;script&#62;",
  "&lt;b&gt;",
  "\\$(zap)",
  "$(zap~spin) $(x",
  "![i](https://example.com/i.png)",
  "line\nbreak",
  "emoji 🙂 and é",
];

/** What a browser shows for marked's HTML: the text, entities decoded; and the tags it made. */
function shown(html: string): { text: string; tags: string[] } {
  const tags = [...html.matchAll(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi)].map((m) => m[1].toLowerCase());
  const text = html
    .replace(/<[^>]*>/g, "")
    .replace(/&(lt|gt|quot|#39|amp|nbsp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&", nbsp: " " })[e]!);
  return { text, tags };
}

const expected = (s: string) => s.replace(/\n/g, " ");

describe("markdownText: model text in VS Code Markdown is shown literally", () => {
  for (const s of HOSTILE) {
    test(`inline: ${JSON.stringify(s.slice(0, 50))}`, () => {
      const r = shown(marked.parseInline(markdownText(s), { gfm: true }) as string);
      assert.deepEqual(r.tags, []);
      assert.equal(r.text, expected(s));
    });
    test(`a paragraph with emphasis around it: ${JSON.stringify(s.slice(0, 50))}`, () => {
      const html = marked.parse(`**key** ${markdownText(s)} · *score*`, { gfm: true }) as string;
      const r = shown(html);
      assert.deepEqual(r.tags, ["p", "strong", "strong", "em", "em", "p"]);
      assert.equal(r.text.trim(), `key ${expected(s)} · score`);
    });
    test(`a table cell: ${JSON.stringify(s.slice(0, 50))}`, () => {
      const html = marked.parse(`| id | token |\n|---:|---|\n| 7 | ${markdownText(s)} |\n`, { gfm: true }) as string;
      const cells = [...html.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => shown(m[1]));
      assert.equal(cells.length, 2, html);
      assert.deepEqual(cells[1], { text: expected(s), tags: [] });
    });
  }
});

describe("notificationText: no link in a notification comes from model text", () => {
  // VS Code's parseLinkedText (base/common/linkedText.ts): the only markup of a notification.
  const LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
  for (const s of ["[x](command:workbench.action.closeWindow)", "a [b](https://example.com) c", "[f](file:///etc/passwd)"]) {
    test(JSON.stringify(s), () => {
      assert.equal(notificationText(s).match(LINK), null);
      assert.equal(notificationText(s).replace(/\u200b/g, ""), s);
    });
  }
});

describe("iconText: quick picks and the status bar show model text as written", () => {
  // VS Code's iconLabels (base/common/iconLabels.ts): an unescaped $(name) or $(name~modifier) is an
  // icon; "\\$(name)" shows as "$(name)"; any other backslash or "$(" shows as it is.
  const ICON = /(\\)?\$\(([A-Za-z0-9-]+)(?:~[A-Za-z0-9-]*)?\)/g;
  const rendered = (label: string) =>
    label.replace(ICON, (m, esc: string | undefined, name: string) => (esc ? m.slice(1) : `<icon ${name}>`));
  for (const s of ["$(zap)", "$(zap~spin) and $(x", "$(", "$(document", "a $(x y) b", "\\$(zap)", "cost: $(5)"])
    test(JSON.stringify(s), () => assert.equal(rendered(iconText(s)), s));
});

describe("cutToken: one rule for cutting long tokens", () => {
  test("short text is unchanged; long text keeps max − 1 characters and '…'", () => {
    assert.equal(cutToken("abc", 5), "abc");
    assert.equal(cutToken("abcdef", 5), "abcd…");
    assert.equal(Array.from(cutToken(HOSTILE_TOKENS[0])).length, 40);
  });
  test("never inside a surrogate pair", () => {
    const s = "🙂".repeat(30);
    assert.equal(cutToken(s, 10), `${"🙂".repeat(9)}…`);
    assert.equal(cutToken("🙂🙂", 2), "🙂🙂", "two code points fit in two");
  });
});

describe("the Markdown export keeps hostile tokens as text", () => {
  test("key headings and ranked lists: code spans with CommonMark's fence rule, no element made from a token", () => {
    const t = (token: string, id: number) => ({ id, token: `'${token}'`, score: 1 });
    const tokens = HOSTILE_TOKENS.slice(1).map((x, i) => t(x, i + 1));
    const md = headReportMarkdown({
      model: "<img src=x onerror=alert(1)> **hostile_*model*",
      layer: 0,
      head: 0,
      ep: "cpu",
      bos: 0,
      keys: tokens.map((k) => ({ ...k, importance: 1, maxQK: 1, maxOV: 1, queries: tokens, outputs: tokens })),
    } as unknown as HeadReport);
    const html = marked.parse(md, { gfm: true }) as string;
    const tags = new Set(shown(html).tags);
    assert.deepEqual([...tags].sort(), ["code", "h2", "h3", "li", "ol", "p"]);
    for (const k of tokens) assert.ok(shown(html).text.includes(k.token), k.token);
  });
});
