/**
 * Token display like the reference notebook: `'` + repr(decoded)[1:-1] + `'`, i.e. Python's
 * repr escapes (including its choice of quote). Bytes that are not valid UTF-8 on their own are
 * shown as `\xNN` byte escapes instead of U+FFFD, so partial-character tokens stay distinguishable.
 */

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** The inside of Python's repr(s), without its outer quotes. */
export function pythonReprInner(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) out += escapeChar(ch, quote);
  return out;
}

function escapeChar(ch: string, quote: string): string {
  if (ch === "\\") return "\\\\";
  if (ch === quote) return "\\" + ch;
  if (ch === "\t") return "\\t";
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  const cp = ch.codePointAt(0)!;
  if (ch === " " || !NON_PRINTABLE.test(ch)) return ch;
  if (cp < 0x100) return "\\x" + hex(cp, 2);
  if (cp < 0x10000) return "\\u" + hex(cp, 4);
  return "\\U" + hex(cp, 8);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Display form of a token's bytes. */
export function displayTokenBytes(bytes: Uint8Array): string {
  return `'${decodeForDisplay(bytes)}'`;
}

const strict = new TextDecoder("utf-8", { fatal: true });

function decodeForDisplay(bytes: Uint8Array): string {
  try {
    return pythonReprInner(strict.decode(bytes));
  } catch {
    // Walk the bytes: valid sequences decode, stray bytes become \xNN.
    let out = "";
    let i = 0;
    while (i < bytes.length) {
      const len = utf8SequenceLength(bytes, i);
      if (len > 0) {
        out += pythonReprInner(strict.decode(bytes.subarray(i, i + len)));
        i += len;
      } else {
        out += "\\x" + hex(bytes[i], 2);
        i++;
      }
    }
    return out;
  }
}

/** Length of the valid UTF-8 sequence starting at i, or 0 if none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  if (n === 1) return 1;
  try {
    strict.decode(b.subarray(i, i + n)); // rejects overlongs and surrogates
    return n;
  } catch {
    return 0;
  }
}

export function unknownIdLabel(id: number): string {
  return `<id ${id}>`;
}

/** Where room is short (canvas axis labels, the tree's descriptions): characters of a token shown. */
export const SHORT_TOKEN_CHARS = 12;
/** Where a page sets tokens in text (strips, chips, tables, titles): characters shown before "…". */
export const TOKEN_CHARS = 40;

/** The one rule for a token (or any model text) where it must not take the room it likes: its first
 * max − 1 characters and "…" when longer (cut between code points, never inside a surrogate pair).
 * Wherever a token is cut, its whole text is in a tooltip. */
export function cutToken(text: string, max = TOKEN_CHARS): string {
  if (text.length <= max) return text;
  const cps = Array.from(text);
  return cps.length > max ? `${cps.slice(0, max - 1).join("")}…` : text;
}
