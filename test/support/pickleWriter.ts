/**
 * A tiny pickle assembler for tests: builds protocol-2 opcode streams by hand, so hostile and
 * malformed pickles (memo bombs, deep nesting, forbidden globals) can be written without Python.
 */
export class PickleWriter {
  private readonly parts: Buffer[] = [Buffer.from([0x80, 0x02])];

  op(code: number, ...payload: number[]): this {
    this.parts.push(Buffer.from([code, ...payload]));
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  mark(): this {
    return this.op(0x28);
  }
  none(): this {
    return this.op(0x4e);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  tuple(): this {
    return this.op(0x74);
  }
  tuple2(): this {
    return this.op(0x86);
  }
  list(): this {
    return this.op(0x6c);
  }
  append(): this {
    return this.op(0x61);
  }
  appends(): this {
    return this.op(0x65);
  }
  setItem(): this {
    return this.op(0x73);
  }
  setItems(): this {
    return this.op(0x75);
  }
  dup(): this {
    return this.op(0x32);
  }
  pop(): this {
    return this.op(0x30);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  binPersId(): this {
    return this.op(0x51);
  }
  stop(): this {
    return this.op(0x2e);
  }
  newFalse(): this {
    return this.op(0x89);
  }

  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a;
      b.writeInt32LE(n, 1);
      return this.raw(b);
    }
    return this.long1(BigInt(n));
  }
  /** LONG1: little-endian two's complement, as pickle writes Python ints beyond 32 bits. */
  long1(v: bigint): this {
    const bytes: number[] = [];
    for (let x = v; ; x >>= 8n) {
      bytes.push(Number(x & 0xffn));
      if (x >= -128n && x < 128n) break;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  str(s: string): this {
    const body = Buffer.from(s, "utf8");
    const head = Buffer.alloc(5);
    head[0] = 0x58;
    head.writeUInt32LE(body.length, 1);
    return this.raw(Buffer.concat([head, body]));
  }
  global(module: string, name: string): this {
    return this.raw(Buffer.from(`c${module}\n${name}\n`, "latin1"));
  }
  put(i: number): this {
    return i < 256 ? this.op(0x71, i) : this.raw(u32op(0x72, i));
  }
  get(i: number): this {
    return i < 256 ? this.op(0x68, i) : this.raw(u32op(0x6a, i));
  }
  /** A torch storage persistent id: ('storage', torch.<type>, key, 'cpu', numel), then BINPERSID. */
  storage(type: string, key: string, numel: number): this {
    return this.mark().str("storage").global("torch", type).str(key).str("cpu").int(numel).tuple().binPersId();
  }
  /** _rebuild_tensor_v2(<storage on the stack>, offset, size, stride, False, OrderedDict()). */
  rebuildTensor(pushStorage: (w: this) => void, offset: number, size: number[], stride: number[]): this {
    this.global("torch._utils", "_rebuild_tensor_v2").mark();
    pushStorage(this);
    this.int(offset);
    this.mark();
    for (const s of size) this.int(s);
    this.tuple().mark();
    for (const s of stride) this.int(s);
    this.tuple().newFalse().global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce();
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function u32op(code: number, i: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = code;
  b.writeUInt32LE(i, 1);
  return b;
}
