/** How token strings are shown as text: visible whitespace, and punctuation-only tokens marked. */

/** Leading/trailing spaces shown as a visible mark so ' the' and 'the' differ at a glance. */
export function visibleToken(display: string): string {
  const m = /^'(.*)'$/s.exec(display);
  if (!m) return display;
  return m[1].replace(/ /g, "\u2423");
}

/** Tokens of punctuation only ('__', ''', '..') get spaced, bolder glyphs: '__' would otherwise
 * read as one bar and ''' as a speck. */
export function isGlyphToken(visible: string): boolean {
  return visible.length > 0 && !/[\p{L}\p{N}\u2423\\]/u.test(visible);
}
