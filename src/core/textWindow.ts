/**
 * Which part of a document live attention runs on, and how that part moves as the document is
 * edited. Offsets are UTF-16 code units, as editors count them.
 */

export interface OffsetRange {
  start: number;
  end: number;
}

/**
 * The text around the cursor: whole lines from about 6 characters per context position before it
 * to 2 after it (code runs at 3–4 characters per token, so the window holds more than n_ctx tokens
 * and the engine keeps the last n_ctx of them — the cursor stays inside, near the end).
 */
export function windowAround(text: string, cursor: number, nCtx: number): OffsetRange {
  const before = 6 * nCtx,
    after = 2 * nCtx;
  if (text.length <= before) return { start: 0, end: text.length };
  let start = Math.max(0, cursor - before);
  if (start > 0) {
    const nl = text.indexOf("\n", start);
    start = nl >= 0 && nl < cursor ? nl + 1 : start;
  }
  let end = Math.min(text.length, cursor + after);
  const nl = text.indexOf("\n", end);
  end = nl >= 0 ? nl + 1 : text.length;
  return { start, end };
}

/**
 * The range after an edit that replaced `removed` characters at `offset` with `inserted` characters:
 * edits before it shift it, edits inside it (or touching its end, as typing at the end does) grow
 * or shrink it, edits after it leave it alone.
 */
export function rangeAfterEdit(r: OffsetRange, offset: number, removed: number, inserted: number): OffsetRange {
  const delta = inserted - removed;
  const editEnd = offset + removed;
  if (editEnd <= r.start && !(removed === 0 && offset === r.start && r.start === r.end)) {
    return { start: r.start + delta, end: r.end + delta };
  }
  if (offset > r.end) return r;
  const start = Math.min(r.start, offset);
  const end = Math.max(start, editEnd >= r.end ? offset + inserted : r.end + delta);
  return { start, end };
}
