/**
 * Where each token of a text lies in it, as UTF-16 offsets (what editors and DOM strings index by).
 * Tokenizers give ids; byte-level BPE tokens are byte strings that concatenate to the text's UTF-8
 * bytes, so walking them gives exact spans. A token that ends inside a multi-byte character spans
 * the whole character. When the bytes stop matching the text (a normalizing tokenizer), the rest of
 * the tokens are located by searching for their decoded text, and unmatched ones get empty spans.
 */

export interface TokenSpan {
  /** UTF-16 offset of the first character of the token. */
  start: number;
  /** UTF-16 offset just past the token (start === end: the token has no place in the text). */
  end: number;
}

/** UTF-16 offset of each UTF-8 byte offset of `text` (length bytes + 1), rounding down inside a character. */
function byteToUtf16(text: string): { bytes: Uint8Array; at: Int32Array } {
  const bytes = new TextEncoder().encode(text);
  const at = new Int32Array(bytes.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) at[b + k] = i;
    b += n;
    if (cp >= 0x10000) i++; // surrogate pair: one code point, two UTF-16 units
  }
  at[bytes.length] = text.length;
  return { bytes, at };
}

/** The offset past the character that contains byte `b - 1` (a token ending mid-character covers it). */
function endOffset(text: string, at: Int32Array, b: number, total: number): number {
  if (b >= total) return text.length;
  if (b > 0 && at[b] === at[b - 1]) {
    const cp = text.codePointAt(at[b])!;
    return at[b] + (cp >= 0x10000 ? 2 : 1);
  }
  return at[b];
}

/**
 * Spans of tokens given by their bytes (undefined: bytes unknown). Exact for byte-level tokenizers
 * whose tokens concatenate to the text.
 */
export function spansFromTokenBytes(text: string, pieces: (Uint8Array | undefined)[]): TokenSpan[] {
  const { bytes, at } = byteToUtf16(text);
  const out: TokenSpan[] = [];
  let b = 0;
  let i = 0;
  for (; i < pieces.length; i++) {
    const p = pieces[i];
    if (!p || b + p.length > bytes.length || !p.every((x, k) => bytes[b + k] === x)) break;
    out.push({ start: at[b], end: endOffset(text, at, b + p.length, bytes.length) });
    b += p.length;
  }
  // Fallback for the rest: find each token's text after the previous one.
  let from = b >= bytes.length ? text.length : at[b];
  const decoder = new TextDecoder("utf-8", { fatal: false });
  for (; i < pieces.length; i++) {
    const p = pieces[i];
    const piece = p ? decoder.decode(p).replace(/\uFFFD/g, "") : "";
    const found = piece ? text.indexOf(piece, from) : -1;
    if (found < 0) {
      out.push({ start: from, end: from });
      continue;
    }
    out.push({ start: found, end: found + piece.length });
    from = found + piece.length;
  }
  return out;
}

/** The index of the token whose span contains `offset` (else the last token starting before it), or -1. */
export function tokenAt(spans: readonly TokenSpan[], offset: number): number {
  let lo = 0,
    hi = spans.length - 1,
    best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid].start <= offset) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Empty spans (BOS, unplaced tokens) never hold the cursor: step back to a real token.
  while (best >= 0 && spans[best].end === spans[best].start) best--;
  return best;
}
