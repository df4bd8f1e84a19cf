/**
 * A strict JSON reader for safetensors headers. JSON.parse silently keeps the last of two equal
 * keys, accepts lone surrogates and reads `1.0` as the integer 1; the safetensors library (serde_json)
 * does none of that. This reader keeps objects as Maps, refuses duplicate keys and lone surrogates,
 * marks non-integer number literals, and stops at the same nesting limit as serde_json (128).
 */

/** A number literal with a fraction or exponent: never a valid size or offset. */
export class NonInteger {
  constructor(readonly value: number) {}
}

export type JsonValue = null | boolean | number | string | NonInteger | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class StrictJsonError extends Error {
  constructor(
    message: string,
    /** "syntax" for malformed JSON, "duplicate" for a repeated key. */
    readonly kind: "syntax" | "duplicate",
    /** Keys from the root to the object holding the problem. */
    readonly path: string[] = [],
    readonly key?: string,
  ) {
    super(message);
  }
}

export const MAX_JSON_DEPTH = 128;
const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

export function parseStrictJson(text: string): JsonValue {
  let pos = 0;
  const path: string[] = [];
  const fail = (what: string): never => {
    throw new StrictJsonError(`${what} at character ${pos}`, "syntax", [...path]);
  };
  const skipSpace = () => {
    while (pos < text.length && WHITESPACE.has(text[pos])) pos++;
  };
  const expect = (literal: string) => {
    if (text.startsWith(literal, pos)) pos += literal.length;
    else fail(`expected ${literal}`);
  };

  const readString = (): string => {
    pos++; // opening quote
    let out = "";
    let start = pos;
    for (;;) {
      if (pos >= text.length) fail("unterminated string");
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) fail("control character in string");
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(start, pos);
      pos++;
      const e = text[pos++];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e in simple) out += simple[e];
      else if (e === "u") out += readUnicodeEscape();
      else fail("invalid escape in string");
      start = pos;
    }
    out += text.slice(start, pos);
    pos++; // closing quote
    return out;
  };
  const hex4 = (): number => {
    const h = text.slice(pos, pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("invalid \\u escape");
    pos += 4;
    return Number.parseInt(h, 16);
  };
  const readUnicodeEscape = (): string => {
    const hi = hex4();
    if (hi >= 0xdc00 && hi <= 0xdfff) fail("lone trailing surrogate in \\u escape");
    if (hi < 0xd800 || hi > 0xdbff) return String.fromCharCode(hi);
    if (!text.startsWith("\\u", pos)) fail("lone leading surrogate in \\u escape");
    pos += 2;
    const lo = hex4();
    if (lo < 0xdc00 || lo > 0xdfff) fail("lone leading surrogate in \\u escape");
    return String.fromCharCode(hi, lo);
  };
  const readNumber = (): number | NonInteger => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(pos, pos + 400));
    if (!m) fail("invalid number");
    pos += m![0].length;
    const value = Number(m![0]);
    return m![2] || m![3] ? new NonInteger(value) : value;
  };

  const readValue = (depth: number): JsonValue => {
    skipSpace();
    const c = text[pos];
    if (c === "{" || c === "[") {
      if (depth >= MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
      return c === "{" ? readObject(depth + 1) : readArray(depth + 1);
    }
    if (c === '"') return readString();
    if (c === "t") return (expect("true"), true);
    if (c === "f") return (expect("false"), false);
    if (c === "n") return (expect("null"), null);
    if (c === "-" || (c >= "0" && c <= "9")) return readNumber();
    return fail(pos >= text.length ? "unexpected end of JSON" : `unexpected character ${JSON.stringify(c)}`);
  };
  const readArray = (depth: number): JsonValue[] => {
    pos++;
    const out: JsonValue[] = [];
    skipSpace();
    if (text[pos] === "]") return (pos++, out);
    for (;;) {
      out.push(readValue(depth));
      skipSpace();
      const c = text[pos++];
      if (c === "]") return out;
      if (c !== ",") fail("expected , or ] in array");
    }
  };
  const readObject = (depth: number): JsonObject => {
    pos++;
    const out: JsonObject = new Map();
    skipSpace();
    if (text[pos] === "}") return (pos++, out);
    for (;;) {
      skipSpace();
      if (text[pos] !== '"') fail("expected a string key");
      const key = readString();
      if (out.has(key)) throw new StrictJsonError(`duplicate key ${JSON.stringify(key)}`, "duplicate", [...path], key);
      skipSpace();
      if (text[pos++] !== ":") fail("expected : after a key");
      path.push(key);
      out.set(key, readValue(depth));
      path.pop();
      skipSpace();
      const c = text[pos++];
      if (c === "}") return out;
      if (c !== ",") fail("expected , or } in object");
    }
  };

  const value = readValue(0);
  skipSpace();
  if (pos < text.length) fail("trailing characters after the JSON value");
  return value;
}
