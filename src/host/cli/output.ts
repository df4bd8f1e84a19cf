/**
 * What the CLI prints, written as it is made: a JSON document whose large arrays are `LazyArray`s is
 * turned into chunks one item at a time (run --json's [L][H][T][T] attention never exists as one
 * string), and the chunks go to stdout with backpressure ('drain'). A reader that closes the pipe
 * (`head-lens run --json … | head -c 100`) ends the writing quietly: no EPIPE crash, no stack trace.
 */

/** An array whose items are made one at a time as it is written; JSON.stringify gives it the same bytes (toJSON). */
export class LazyArray<T> {
  constructor(
    readonly length: number,
    readonly item: (i: number) => T,
  ) {}

  toJSON(): T[] {
    return Array.from({ length: this.length }, (_, i) => this.item(i));
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  Object.getPrototypeOf(v) === Object.prototype &&
  typeof (v as { toJSON?: unknown }).toJSON !== "function";

/**
 * The chunks whose concatenation is exactly `JSON.stringify(value)`: plain objects are walked key by
 * key and `LazyArray`s item by item; every other value is JSON.stringify's own output, whole.
 * By hand because the streaming stringifier that keeps JSON.stringify's bytes (@discoveryjs/json-ext's
 * stringifyChunked) formats number by number in JavaScript: 12.4 s against JSON.stringify's 3.1 s for
 * 16 M float32 attention weights; here each row is one native JSON.stringify call (3.0 s).
 */
export function* jsonChunks(value: unknown): Generator<string> {
  if (value instanceof LazyArray) {
    yield "[";
    for (let i = 0; i < value.length; i++) {
      if (i) yield ",";
      const item: unknown = value.item(i);
      // In an array, what JSON.stringify leaves out of objects (undefined, functions, symbols) is null.
      yield* isOmitted(item) ? ["null"] : jsonChunks(item);
    }
    yield "]";
  } else if (isPlainObject(value)) {
    yield "{";
    yield* jsonMembers(value, true);
    yield "}";
  } else {
    yield JSON.stringify(value) ?? "null";
  }
}

/**
 * An object's members (`"key":value`, JSON.stringify's way), after a comma unless `first`: an object
 * can be written in parts, its first fields while the rest is still being computed —
 * "{" + members(a, true) + members(b, false) + "}" is JSON.stringify({ ...a, ...b }) when a has a member
 * and the keys are names (JavaScript puts array-index keys first in any object).
 */
export function* jsonMembers(fields: Record<string, unknown>, first: boolean): Generator<string> {
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (isOmitted(v)) continue;
    yield (first ? "" : ",") + JSON.stringify(key) + ":";
    first = false;
    yield* jsonChunks(v);
  }
}

const isOmitted = (v: unknown) => v === undefined || typeof v === "function" || typeof v === "symbol";

/** Each stream's first error: EPIPE when its reader went away. */
const failures = new WeakMap<NodeJS.WritableStream, Error>();
const watched = new WeakSet<NodeJS.WritableStream>();

/** Keeps `out`'s errors from crashing the process (an 'error' event nobody listens to throws); writeOut reads them. */
export function watchOutput(out: NodeJS.WritableStream = process.stdout): void {
  if (watched.has(out)) return;
  watched.add(out);
  out.on("error", (e: Error) => failures.has(out) || failures.set(out, e));
}

/**
 * Whether `out` still takes output: false once its reader has closed the pipe (EPIPE: a quiet end,
 * as for `| head`); any other failure (a full disk) is the command's error, with what to do.
 */
function writable(out: NodeJS.WritableStream): boolean {
  const e = failures.get(out);
  if (e && (e as NodeJS.ErrnoException).code !== "EPIPE")
    throw new Error(`cannot write the output (${e.message}); check where stdout is redirected (disk space, permissions)`);
  return !e && (out as { destroyed?: boolean }).destroyed !== true;
}

/**
 * Writes the chunks to `out` (stdout) in pieces of about `pieceChars`, waiting for 'drain' whenever its
 * buffer is full, so memory stays at one piece however long the output. Resolves false when the
 * reader closed the pipe first (the rest is dropped, not even made; the command still exits 0).
 */
export async function writeOut(
  chunks: Iterable<string>,
  out: NodeJS.WritableStream = process.stdout,
  pieceChars = 1 << 16,
): Promise<boolean> {
  watchOutput(out);
  let piece = "";
  for (const chunk of chunks) {
    if (!writable(out)) return false;
    piece += chunk;
    if (piece.length >= pieceChars) {
      const ok = out.write(piece);
      piece = "";
      if (!ok) await drained(out);
    }
  }
  if (piece && writable(out) && !out.write(piece)) await drained(out);
  // A synchronous stdout (a file, /dev/full) reports the last write's failure on the next tick.
  await new Promise((r) => setImmediate(r));
  return writable(out);
}

/** 'drain', or the stream's end (a closed pipe never drains). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done).off("error", done).off("close", done);
      resolve();
    };
    out.on("drain", done).on("error", done).on("close", done);
  });
}

/** A JSON document and a newline to stdout, as it is made (see jsonChunks). */
export function writeJson(value: unknown, out?: NodeJS.WritableStream): Promise<boolean> {
  return writeOut(
    (function* () {
      yield* jsonChunks(value);
      yield "\n";
    })(),
    out,
  );
}
