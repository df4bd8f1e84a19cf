/** An error a user can act on: what went wrong, where, and what to do. Never a crash. */

/** Where an error comes from; the part after the dot names the rule or failure. */
export type ErrorArea =
  | "engine"
  | "request"
  | "model"
  | "config"
  | "weights"
  | "safetensors"
  | "pth"
  | "tokenizer"
  | "vocab"
  | "priors"
  | "hub"
  | "convert"
  | "gpu";

/** Stable machine-readable codes, e.g. "safetensors.bounds"; "cancelled" and "internal" stand alone. */
export type ErrorCode = "cancelled" | "internal" | `${ErrorArea}.${string}`;

export class HeadLensError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
    this.name = "HeadLensError";
  }
}

export function isHeadLensError(e: unknown): e is HeadLensError {
  return e instanceof HeadLensError || (e instanceof Error && e.name === "HeadLensError" && typeof (e as HeadLensError).code === "string");
}

/** The error's code, "internal" for anything that is not a HeadLensError. */
export function errorCode(e: unknown): ErrorCode {
  return isHeadLensError(e) ? e.code : "internal";
}

export function isCancelled(e: unknown): boolean {
  return errorCode(e) === "cancelled";
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Text for one line of an error message: newlines escaped, at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\r?\n|\r/g, "\\n");
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
