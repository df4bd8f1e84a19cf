/**
 * Model-supplied text (token strings, model names, file names, error messages naming them) as data
 * in VS Code's Markdown (tree tooltips, editor hovers, decoration hovers) and in notifications.
 *
 * Markdown: every ASCII punctuation character is backslash-escaped, as CommonMark allows for any
 * of them, so no emphasis, link, autolink, entity (`&amp;` stays five characters), HTML tag, table
 * cell break (`\|` is GFM's own escape inside a table) or heading can start in it — except "(" and
 * ")", which mean nothing once "[" and "]" are escaped, and which must stay bare after "\$" so that
 * VS Code reads `\$(zap)` as an escaped theme icon where a string supports icons (its renderer keeps
 * `\$(name)` escaped through marked; `\$\(name\)` would come out as `$(name)` and become an icon),
 * and inside such an icon's name its "-" and "~" stay bare for the same reason.
 * Line breaks become spaces (a line of a tooltip stays one line); a space beside another, or at an
 * end, becomes &nbsp; so that runs of spaces in a token are not collapsed by HTML.
 *
 * Not code spans: inside a code span no escape works (CommonMark), so a token holding backticks
 * would end it early, and tokens already come quoted (Python's repr). VS Code's own appendText
 * escapes fewer characters (not `<`, `&`, `|` or ":") and turns spaces into &nbsp;; this is one rule
 * for every place, tables included. The MarkdownStrings that carry model text keep supportHtml off
 * and isTrusted off, or trusted only for the extension's own command links.
 */

const MARKDOWN_PUNCTUATION = /[!"#$%&'*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** VS Code's theme-icon syntax, $(name) or $(name~modifier) (its iconLabels.ts). */
const THEME_ICON = /\$\(([a-z0-9-]+?(?:~[a-z0-9-]*?)?)\)/gi;

export function markdownText(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, " ");
  let out = "";
  let at = 0;
  for (const m of flat.matchAll(THEME_ICON)) {
    out += escapePunctuation(flat.slice(at, m.index)) + `\\$(${m[1]})`;
    at = m.index + m[0].length;
  }
  return (out + escapePunctuation(flat.slice(at))).replace(/ (?= )|(?<= ) |^ | $/g, "&nbsp;");
}

function escapePunctuation(text: string): string {
  return text.replace(MARKDOWN_PUNCTUATION, "\\$&");
}

/**
 * Notifications (and progress titles) are plain text but for `[label](command:… | https:… | file:…)`
 * links, which VS Code makes clickable: a zero-width space between "]" and "(" keeps such text
 * literal (nothing else is parsed there).
 */
export function notificationText(text: string): string {
  return text.replace(/\]\(/g, "]\u200b(");
}

/**
 * Quick-pick labels, descriptions and details, and status-bar text, render $(name) as a theme icon:
 * a backslash before each "$(" shows it as written (VS Code's iconLabels: an escaped icon is text).
 */
export function iconText(text: string): string {
  return text.replace(/\$\(/g, "\\$(");
}
