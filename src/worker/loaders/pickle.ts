/**
 * A restricted unpickler for PyTorch checkpoints. It never executes anything: globals resolve only
 * against an allow-list of inert constructors (OrderedDict, tensor/parameter rebuilders, storage
 * types); any other GLOBAL / STACK_GLOBAL, INST / OBJ / NEWOBJ, extension codes, or BUILD on an
 * unknown object is refused with an error that names it.
 */
import { HeadLensError } from "../../core/errors";

export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Attributes set by BUILD (e.g. a state dict's `_metadata`). */
  readonly attrs = new Map<string, unknown>();
}

export class StorageType {
  constructor(readonly name: string) {}
}

export interface StorageRef {
  kind: "storage";
  type: StorageType;
  key: string;
  numel: number;
}

export interface TensorRef {
  kind: "tensor";
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

class Global {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

const MARK = Symbol("mark");

const STORAGE_TYPES = ["FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"];
const ALLOWED = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  ...STORAGE_TYPES.map((s) => `torch.${s}`),
]);

export class PickleError extends HeadLensError {
  constructor(label: string, what: string) {
    super(`${label}: ${what}`, "pth.pickle");
  }
}

export function unpickle(data: Uint8Array, label: string): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail = (what: string): never => {
    throw new PickleError(label, what);
  };
  const need = (n: number) => {
    if (pos + n > data.length) fail(`pickle ends early at byte ${pos} (file truncated?)`);
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const utf8 = (n: number) => new TextDecoder().decode(bytes(n));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated text opcode");
    const s = new TextDecoder("latin1").decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = () => (stack.length ? stack.pop() : fail("stack underflow (malformed pickle)"));
  const popMark = (): unknown[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail("MARK expected (malformed pickle)");
    const items = stack.splice(i);
    items.shift();
    return items;
  };
  const global = (module: string, name: string) => {
    const g = new Global(module, name);
    if (!ALLOWED.has(g.qualified)) fail(`refuses global ${g.qualified}: only tensors and state dicts may be unpickled (the file may be malicious)`);
    return name.endsWith("Storage") ? new StorageType(name) : g;
  };
  const top = () => (stack.length ? stack[stack.length - 1] : fail("stack underflow (malformed pickle)"));
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof PyDict)) fail("SETITEM on something that is not a dict");
    for (let i = 0; i + 1 < kv.length; i += 2) (d as PyDict).map.set(kv[i], kv[i + 1]);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) fail("APPEND on something that is not a list");
    (l as unknown[]).push(...items);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME
      case 0x2e: return stack.length === 1 ? stack[0] : fail("STOP with a malformed stack"); // STOP
      case 0x28: stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x49: { // INT (text)
        const s = line();
        stack.push(s === "01" ? true : s === "00" ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: stack.push(Number.parseInt(line().replace(/L$/, ""), 10)); break; // LONG (text)
      case 0x46: stack.push(Number.parseFloat(line())); break; // FLOAT (text)
      case 0x53: stack.push(line().replace(/^(['"])(.*)\1$/s, "$2")); break; // STRING (text)
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(view.getBigUint64(pos, true)); pos += 8; stack.push(utf8(n)); break; } // BINUNICODE8
      case 0x54: stack.push(new TextDecoder("latin1").decode(bytes(i32()))); break; // BINSTRING
      case 0x55: stack.push(new TextDecoder("latin1").decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x29: stack.push([]); break; // EMPTY_TUPLE (tuples are plain arrays)
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(Number.parseInt(line(), 10), top()); break; // PUT (text)
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memoGet(memo, u8(), fail)); break; // BINGET
      case 0x6a: stack.push(memoGet(memo, u32(), fail)); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(memo, Number.parseInt(line(), 10), fail)); break; // GET (text)
      case 0x63: { const module = line(); stack.push(global(module, line())); break; } // GLOBAL
      case 0x93: { const name = pop(), module = pop(); stack.push(global(String(module), String(name))); break; } // STACK_GLOBAL
      case 0x69: { const module = line(), name = line(); fail(`refuses INST ${module}.${name}: instantiating classes is not allowed (the file may be malicious)`); break; }
      case 0x6f: { const args = popMark(); fail(`refuses OBJ of ${describe(args[0])}: instantiating classes is not allowed`); break; }
      case 0x81: case 0x92: { pop(); const cls = pop(); fail(`refuses NEWOBJ of ${describe(cls)}: instantiating classes is not allowed`); break; }
      case 0x82: case 0x83: case 0x84: fail("refuses extension-registry globals (EXT1/EXT2/EXT4)"); break;
      case 0x50: fail("refuses text persistent ids (PERSID)"); break;
      case 0x51: stack.push(persistent(pop(), fail)); break; // BINPERSID
      case 0x52: { const args = pop(), fn = pop(); stack.push(reduce(fn, args, fail)); break; } // REDUCE
      case 0x62: { const state = pop(); build(top(), state, fail); break; } // BUILD
      default: fail(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

function memoGet(memo: Map<number, unknown>, i: number, fail: (w: string) => never): unknown {
  if (!memo.has(i)) fail(`memo entry ${i} used before it was stored`);
  return memo.get(i);
}

function describe(x: unknown): string {
  return x instanceof Global ? x.qualified : x instanceof StorageType ? `torch.${x.name}` : typeof x;
}

function persistent(pid: unknown, fail: (w: string) => never): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== "storage" || !(pid[1] instanceof StorageType) || typeof pid[2] !== "string" || typeof pid[4] !== "number") {
    fail(`unexpected persistent id ${JSON.stringify(pid, (_k, v) => (v instanceof StorageType ? v.name : v))}; expected ('storage', type, key, location, numel)`);
  }
  const p = pid as unknown[];
  return { kind: "storage", type: p[1] as StorageType, key: p[2] as string, numel: p[4] as number };
}

function reduce(fn: unknown, args: unknown, fail: (w: string) => never): unknown {
  if (!(fn instanceof Global)) return fail(`refuses to call ${describe(fn)}`);
  if (!Array.isArray(args)) return fail(`REDUCE of ${fn.qualified} without an argument tuple`);
  switch (fn.qualified) {
    case "collections.OrderedDict": {
      const d = new PyDict();
      if (Array.isArray(args[0])) for (const kv of args[0] as unknown[][]) d.map.set(kv[0], kv[1]);
      return d;
    }
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
      if (storage?.kind !== "storage" || !Number.isInteger(offset) || !Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length) {
        return fail("malformed _rebuild_tensor_v2 arguments");
      }
      const t: TensorRef = { kind: "tensor", storage, offset, size, stride };
      return t;
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state":
      return args[0];
    default:
      return fail(`refuses to call ${fn.qualified}`);
  }
}

function build(obj: unknown, state: unknown, fail: (w: string) => never): void {
  if (obj instanceof PyDict && state instanceof PyDict) {
    for (const [k, v] of state.map) obj.attrs.set(String(k), v); // e.g. OrderedDict._metadata
    return;
  }
  fail(`refuses BUILD on ${obj instanceof Global ? obj.qualified : obj === null ? "None" : typeof obj === "object" ? (obj as object).constructor?.name ?? "an object" : typeof obj} (only state-dict attributes may be set)`);
}
