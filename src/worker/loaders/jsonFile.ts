/** Reads a JSON file whose size is checked before it is read, so a huge file costs nothing. */
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { ErrorCode, HeadLensError, oneLine } from "../../core/errors";

/** tokenizer.json: GPT-NeoX's is 2 MB, Llama 3's 9 MB, Gemma's 34 MB. */
export const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;

/** Parses `path` (no larger than maxBytes); a missing file throws the fs error (ENOENT) for callers to word. */
export function readBoundedJson(path: string, maxBytes: number, what: string, code: ErrorCode): unknown {
  const fd = openSync(path, "r");
  let text: string;
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new HeadLensError(`${path}: ${size} bytes is larger than any ${what} (limit ${maxBytes}); is it the right file?`, code);
    }
    text = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HeadLensError(`${path}: not valid JSON (${oneLine((e as Error).message, 120)})`, code);
  }
}
