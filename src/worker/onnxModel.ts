/**
 * Builds ONNX models (protobuf ModelProto bytes) in TypeScript at run time. Only the handful of
 * message fields the engine's graphs use are encoded; field numbers follow onnx/onnx.proto.
 */

export const enum ElemType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
}

export type Dim = number | string; // fixed size or a symbolic (dynamic) dimension

export interface ValueInfo {
  name: string;
  type: ElemType;
  dims: Dim[];
}

export interface Attribute {
  name: string;
  int?: number;
  ints?: number[];
  float?: number;
}

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Attribute[];
}

export interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  raw: Uint8Array;
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers?: Initializer[];
}

class Writer {
  private chunks: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.chunks.push(Number((x & 0x7fn) | 0x80n));
      x >>= 7n;
    }
    this.chunks.push(Number(x));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, "utf8"));
  }
  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }
  float(field: number, f: number): this {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(f);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

// Large raw tensors would make the byte-array writer slow, and each nesting level would copy them
// again (a 100 MB W_U six times): messages with tensors are lists of parts, joined once in buildModel.
type Parts = Uint8Array[];
const partsLength = (parts: Parts) => parts.reduce((n, p) => n + p.length, 0);

function lengthDelimited(field: number, body: Parts): Parts {
  return [new Writer().tag(field, 2).varint(partsLength(body)).finish(), ...body];
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, typeof d === "number" ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, v.type).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function attribute(a: Attribute): Writer {
  const w = new Writer().string(1, a.name);
  if (a.int !== undefined) return w.int(3, a.int).int(20, 2);
  if (a.ints !== undefined) {
    for (const i of a.ints) w.int(8, i);
    return w.int(20, 7);
  }
  if (a.float !== undefined) return w.float(2, a.float).int(20, 1);
  throw new Error(`attribute ${a.name} has no value`);
}

function node(n: Node, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const a of n.attributes ?? []) w.message(5, attribute(a));
  return w;
}

/** An initializer's bytes, or (with `location`) a reference to them in onnxruntime's in-memory external data. */
function initializer(t: Initializer, location?: string): Parts {
  const head = new Writer();
  for (const d of t.dims) head.int(1, d);
  head.int(2, t.type).string(8, t.name);
  if (location === undefined) return [head.finish(), ...lengthDelimited(9, [t.raw])];
  const entry = (key: string, value: string) => new Writer().string(1, key).string(2, value);
  head
    .message(13, entry("location", location))
    .message(13, entry("offset", "0"))
    .message(13, entry("length", String(t.raw.byteLength)));
  return [head.int(14, 1).finish()]; // data_location EXTERNAL
}

export function buildModel(g: Graph, opset = 17): Uint8Array {
  return encodeModel(g, opset, new Map());
}

/**
 * Initializers at least this large (the unembedding's 100 MB W_U) travel beside the model bytes as
 * onnxruntime's in-memory external data: not copied into the protobuf nor parsed out of it again
 * (a 48k-vocabulary unembedding session: build 160 → 1 ms, creation ≈ 0.2 s less).
 */
export const EXTERNAL_BYTES = 1 << 20;

export interface ModelWithData {
  model: Uint8Array;
  /** For SessionOptions.externalData: each large initializer's bytes under the name the model refers to. */
  externalData: { path: string; data: Uint8Array }[];
}

export function buildModelWithData(g: Graph, opset = 17): ModelWithData {
  const locations = new Map<Initializer, string>();
  (g.initializers ?? []).forEach((t, i) => t.raw.byteLength >= EXTERNAL_BYTES && locations.set(t, `initializer${i}.bin`));
  return {
    model: encodeModel(g, opset, locations),
    externalData: [...locations].map(([t, path]) => ({ path, data: t.raw })),
  };
}

function encodeModel(g: Graph, opset: number, locations: Map<Initializer, string>): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, g.name);
  const tail = new Writer();
  for (const v of g.inputs) tail.message(11, valueInfo(v));
  for (const v of g.outputs) tail.message(12, valueInfo(v));
  const inits = (g.initializers ?? []).flatMap((t) => lengthDelimited(5, initializer(t, locations.get(t))));
  const model = new Writer().int(1, 8).string(2, "head-lens").message(8, new Writer().string(1, "").int(2, opset));
  return Buffer.concat([model.finish(), ...lengthDelimited(7, [graph.finish(), ...inits, tail.finish()])]); // the one copy of the tensors
}
