/** An error a user can act on: what went wrong, where, and what to do. Never a crash. */
export class HeadLensError extends Error {
  constructor(
    message: string,
    /** Stable machine-readable code, e.g. "safetensors.bounds". */
    readonly code: string,
  ) {
    super(message);
    this.name = "HeadLensError";
  }
}

export function isHeadLensError(e: unknown): e is HeadLensError {
  return e instanceof HeadLensError || (e instanceof Error && e.name === "HeadLensError");
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Text for one line of an error message: newlines escaped, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\r?\n|\r/g, "\\n");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
