/**
 * Model-supplied text (token strings, model names, file names, error messages naming them) as data
 * in VS Code's Markdown (tree tooltips, editor hovers, decoration hovers) and in notifications.
 *
 * Markdown: every ASCII punctuation character is backslash-escaped, as CommonMark allows for any
 * of them, so no emphasis, strikethrough, link, autolink, entity (`&amp;` stays five characters),
 * HTML tag, list marker (`1)`), table cell break (`\|` is GFM's own escape inside a table) or
 * heading can start in it. The MarkdownStrings that carry model text keep theme icons off: with them
 * on, VS Code turns an escaped `\$\(name\)` back into an icon, and no escape keeps both `$(a~b)` and
 * a "~" around it literal.
 * Line breaks become spaces (a line of a tooltip stays one line); a space beside another, or at an
 * end, becomes &nbsp; so that runs of spaces in a token are not collapsed by HTML.
 *
 * Not code spans: inside a code span no escape works (CommonMark), so a token holding backticks
 * would end it early, and tokens already come quoted (Python's repr). VS Code's own appendText
 * escapes fewer characters (not `<`, `&`, `|` or ":") and turns spaces into &nbsp;; this is one rule
 * for every place, tables included. The MarkdownStrings that carry model text keep supportHtml off
 * and isTrusted off, or trusted only for the extension's own command links.
 */

const MARKDOWN_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** VS Code's theme-icon syntax, $(name) or $(name~modifier) (its iconLabels.ts). */
const THEME_ICON = /\$\([a-z0-9-]+(?:~[a-z0-9-]*)?\)/gi;

export function markdownText(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, " ")
    .replace(MARKDOWN_PUNCTUATION, "\\$&")
    .replace(/ (?= )|(?<= ) |^ | $/g, "&nbsp;");
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
 * a backslash before each icon shows it as written (VS Code's iconLabels: an escaped icon is text).
 * Only whole icons: VS Code drops the backslash of `\$(name)` alone, so any other "$(" stays bare.
 */
export function iconText(text: string): string {
  return text.replace(THEME_ICON, "\\$&");
}
