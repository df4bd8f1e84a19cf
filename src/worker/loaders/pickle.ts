/**
 * A restricted, bounded unpickler for PyTorch checkpoints. It never executes anything: globals
 * resolve only against an allow-list of inert constructors (OrderedDict, tensor/parameter
 * rebuilders, storage types); any other GLOBAL / STACK_GLOBAL, INST / OBJ / NEWOBJ, extension codes,
 * or BUILD on an unknown object is refused with an error that names it.
 *
 * It is also bounded by its input: every length is checked against the bytes left before anything
 * is read, every opcode consumes input (so the loop ends), MARKs use a metastack (no rescans), and
 * ValueSizes refuses memo bombs and deep nesting while they are built (see pickleValues.ts).
 */
import { HeadLensError } from "../../core/errors";
import { ALLOWED, build, Fail, persistent, reduce } from "./pickleGlobals";
import { Global, PyDict, StorageType, UnpickleLimits, ValueSizes, describe, limitsFor } from "./pickleValues";

export { PyDict, StorageType } from "./pickleValues";
export type { StorageRef, TensorRef } from "./pickleValues";

export class PickleError extends HeadLensError {
  constructor(label: string, what: string) {
    super(`${label}: ${what}`, "pth.pickle");
  }
}

export function unpickle(data: Uint8Array, label: string, limits: UnpickleLimits = limitsFor(data.length)): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail: Fail = (what) => {
    throw new PickleError(label, what);
  };
  const sizes = new ValueSizes(limits, fail);

  const need = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) fail(`negative or invalid length ${n} at byte ${pos} (malformed pickle)`);
    if (n > data.length - pos) fail(`pickle ends early: ${n} bytes claimed at byte ${pos}, ${data.length - pos} remain (file truncated?)`);
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => (need(8), (pos += 8), Number(view.getBigUint64(pos - 8, true)));
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const utf8 = (n: number) => new TextDecoder().decode(bytes(n));
  const latin1 = (n: number) => new TextDecoder("latin1").decode(bytes(n));
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail(`unterminated text opcode at byte ${pos}`);
    const s = new TextDecoder("latin1").decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const intLine = (what: string) => {
    const s = line();
    if (!/^-?\d{1,20}L?$/.test(s)) fail(`malformed ${what} ${describe(s)}`);
    return Number.parseInt(s, 10);
  };

  const push = (x: unknown) => stack.push(x);
  const pop = (): unknown => (stack.length ? stack.pop() : fail("stack underflow (malformed pickle)"));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail("stack underflow (malformed pickle)"));
  const mark = () => {
    metastack.push(stack);
    stack = [];
    sizes.checkMarkDepth(metastack.length);
  };
  const popMark = (): unknown[] => {
    const items = stack;
    stack = metastack.pop() ?? fail("MARK expected (malformed pickle)");
    return items;
  };
  const tuple = (items: unknown[]) => push(sizes.made(items, items));
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`memo entry ${i} used before it was stored`);
    const x = memo.get(i);
    sizes.reused(x);
    push(x);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof PyDict)) fail(`SETITEM on ${describe(d)}, which is not a dict`);
    if (kv.length % 2) fail("SETITEMS with a key but no value (malformed pickle)");
    sizes.grew(d as PyDict, kv);
    for (let i = 0; i < kv.length; i += 2) (d as PyDict).map.set(kv[i], kv[i + 1]);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) fail(`APPEND on ${describe(l)}, which is not a list`);
    sizes.grew(l as unknown[], items);
    for (const item of items) (l as unknown[]).push(item); // no push(...items): a long list would overflow the stack
  };
  const global = (module: unknown, name: unknown) => {
    if (typeof module !== "string" || typeof name !== "string")
      return fail(`STACK_GLOBAL needs two strings, got ${describe(module)} and ${describe(name)}`);
    const g = new Global(module, name);
    if (!ALLOWED.has(g.qualified))
      fail(
        `refuses global ${describe(g.qualified).slice(1, -1)}: only tensors and state dicts may be unpickled (the file may be malicious)`,
      );
    return name.endsWith("Storage") ? new StorageType(name) : g;
  };

  for (let ops = 0; ; ops++) {
    if (ops > data.length) fail("does not advance (malformed pickle)"); // every opcode consumes ≥ 1 byte
    const op = u8();
    switch (op) {
      case 0x80: {
        const v = u8();
        if (v > 5) fail(`uses pickle protocol ${v}; at most 5 exists`);
        break;
      } // PROTO
      case 0x95:
        u64();
        break; // FRAME (a hint only)
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length) fail("STOP with a malformed stack");
        return stack[0];
      case 0x28:
        mark();
        break; // MARK
      case 0x30:
        if (stack.length) stack.pop();
        else popMark();
        break; // POP (of an empty stack: the MARK)
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32: {
        const x = top();
        sizes.reused(x);
        push(x);
        break;
      } // DUP
      case 0x4e:
        push(null);
        break; // NONE
      case 0x88:
        push(true);
        break; // NEWTRUE
      case 0x89:
        push(false);
        break; // NEWFALSE
      case 0x4a:
        push(i32());
        break; // BININT
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x8a:
        push(long1(bytes(u8())));
        break; // LONG1
      case 0x47:
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break; // BINFLOAT (big-endian)
      case 0x49: {
        // INT (text)
        const s = line();
        if (s === "01" || s === "00") push(s === "01");
        else if (/^-?\d{1,20}$/.test(s)) push(Number.parseInt(s, 10));
        else fail(`malformed INT ${describe(s)}`);
        break;
      }
      case 0x4c:
        push(intLine("LONG"));
        break; // LONG (text)
      case 0x46:
        push(Number.parseFloat(line()));
        break; // FLOAT (text)
      case 0x53:
        push(line().replace(/^(['"])(.*)\1$/s, "$2"));
        break; // STRING (text)
      case 0x58:
        push(utf8(u32()));
        break; // BINUNICODE
      case 0x8c:
        push(utf8(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        push(utf8(u64()));
        break; // BINUNICODE8
      case 0x54:
        push(latin1(i32()));
        break; // BINSTRING (a negative length is refused by need)
      case 0x55:
        push(latin1(u8()));
        break; // SHORT_BINSTRING
      case 0x42:
        push(bytes(u32()));
        break; // BINBYTES
      case 0x43:
        push(bytes(u8()));
        break; // SHORT_BINBYTES
      case 0x29:
        tuple([]);
        break; // EMPTY_TUPLE (tuples are plain arrays)
      case 0x5d:
        tuple([]);
        break; // EMPTY_LIST
      case 0x7d:
        push(sizes.made(new PyDict(), []));
        break; // EMPTY_DICT
      case 0x74:
        tuple(popMark());
        break; // TUPLE
      case 0x6c:
        tuple(popMark());
        break; // LIST
      case 0x85:
        tuple([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop(),
          a = pop();
        tuple([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        tuple([a, b, c]);
        break;
      } // TUPLE3
      case 0x64: {
        const kv = popMark();
        const d = sizes.made(new PyDict(), []);
        setItems(d, kv);
        push(d);
        break;
      } // DICT
      case 0x73: {
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x61: {
        const v = pop();
        append(top(), [v]);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        append(top(), items);
        break;
      } // APPENDS
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x70:
        memo.set(intLine("PUT index"), top());
        break; // PUT (text)
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        memoGet(u8());
        break; // BINGET
      case 0x6a:
        memoGet(u32());
        break; // LONG_BINGET
      case 0x67:
        memoGet(intLine("GET index"));
        break; // GET (text)
      case 0x63: {
        const module = line();
        push(global(module, line()));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop(),
          module = pop();
        push(global(module, name));
        break;
      } // STACK_GLOBAL
      case 0x69: {
        // INST
        const module = line(),
          name = line();
        fail(
          `refuses INST ${describe(`${module}.${name}`).slice(1, -1)}: instantiating classes is not allowed (the file may be malicious)`,
        );
        break;
      }
      case 0x6f: {
        const args = popMark();
        fail(`refuses OBJ of ${describe(args[0])}: instantiating classes is not allowed`);
        break;
      }
      case 0x81: {
        pop();
        fail(`refuses NEWOBJ of ${describe(pop())}: instantiating classes is not allowed`);
        break;
      }
      case 0x92: {
        pop();
        pop();
        fail(`refuses NEWOBJ_EX of ${describe(pop())}: instantiating classes is not allowed`);
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        fail("refuses extension-registry globals (EXT1/EXT2/EXT4)");
        break;
      case 0x50:
        fail("refuses text persistent ids (PERSID)");
        break;
      case 0x51:
        push(persistent(pop(), fail));
        break; // BINPERSID
      case 0x52: {
        const args = pop(),
          fn = pop();
        push(reduce(fn, args, sizes, fail));
        break;
      } // REDUCE
      case 0x62: {
        const state = pop();
        build(top(), state, sizes, fail);
        break;
      } // BUILD
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

/** LONG1: a little-endian two's-complement integer of at most 255 bytes. */
function long1(b: Uint8Array): number {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v);
}
