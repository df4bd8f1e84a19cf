/**
 * The values the restricted unpickler builds, and the bookkeeping that keeps them bounded: every
 * container's expanded size (nodes, counting each shared reference again) and depth are known when
 * it is built, so a memo bomb or a deep nest is refused while it is being built, never later by
 * whatever walks it (an error message, String(), JSON.stringify).
 */

export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** Attributes set by BUILD (e.g. a state dict's `_metadata`). */
  readonly attrs = new Map<string, unknown>();
}

export class StorageType {
  constructor(readonly name: string) {}
}

export class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
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

export interface UnpickleLimits {
  /** Most nodes one value may expand to, following shared references as copies. */
  maxValueNodes: number;
  /** Most nodes that memo gets and DUPs may re-reference, in total. */
  maxReferencedNodes: number;
  /** Deepest nesting of containers (and of open MARKs). */
  maxDepth: number;
}

/**
 * A state dict's pickle has about one node per byte (each name, int and tuple costs ≥ 1 opcode
 * byte) and its memo references are single globals and strings. Four nodes per byte, plus room for
 * tiny pickles, is generous for that and linear in the file, where a memo bomb is exponential.
 * torch state dicts nest ≤ 6 deep; 100 leaves room for any real checkpoint and stays far from
 * JavaScript's stack limits.
 */
export function limitsFor(pickleBytes: number): UnpickleLimits {
  const nodes = 4 * pickleBytes + 65_536;
  return { maxValueNodes: nodes, maxReferencedNodes: nodes, maxDepth: 100 };
}

interface Size {
  nodes: number;
  depth: number;
}

export class ValueSizes {
  private readonly sizes = new WeakMap<object, Size>();
  /** Containers already placed inside another: changing them would invalidate that one's size. */
  private readonly sealed = new WeakSet<object>();
  private referenced = 0;

  constructor(
    private readonly limits: UnpickleLimits,
    private readonly fail: (what: string) => never,
  ) {}

  nodes(x: unknown): number {
    return typeof x === "object" && x !== null ? (this.sizes.get(x)?.nodes ?? 1) : 1;
  }

  depth(x: unknown): number {
    return typeof x === "object" && x !== null ? (this.sizes.get(x)?.depth ?? 0) : 0;
  }

  /** Registers a value built from `children`, which may no longer change. */
  made<T extends object>(value: T, children: readonly unknown[]): T {
    this.sizes.set(value, { nodes: 1, depth: 1 });
    this.add(value, children);
    return value;
  }

  /** Adds children to a container that is not yet inside another one. */
  grew(container: object, children: readonly unknown[]): void {
    if (this.sealed.has(container)) {
      this.fail("changes a list or dict after placing it inside another (self-referencing structures are not supported)");
    }
    this.add(container, children);
  }

  /** A memo get or DUP: the value is about to be used once more. */
  reused(x: unknown): void {
    this.referenced += this.nodes(x);
    if (this.referenced > this.limits.maxReferencedNodes) {
      this.fail(`re-uses memoized values for more than ${this.limits.maxReferencedNodes} nodes in total (a "billion laughs" memo bomb?)`);
    }
  }

  checkMarkDepth(openMarks: number): void {
    if (openMarks > this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth}`);
  }

  private add(container: object, children: readonly unknown[]): void {
    const size = this.sizes.get(container) ?? { nodes: 1, depth: 1 };
    for (const child of children) {
      if (child === container) this.fail("builds a list or dict that contains itself (self-referencing structures are not supported)");
      size.nodes += this.nodes(child);
      size.depth = Math.max(size.depth, 1 + this.depth(child));
      if (typeof child === "object" && child !== null) this.sealed.add(child);
    }
    this.sizes.set(container, size);
    if (size.depth > this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth}`);
    if (size.nodes > this.limits.maxValueNodes) {
      this.fail(`builds a value of more than ${this.limits.maxValueNodes} nodes through shared references (a "billion laughs" memo bomb?)`);
    }
  }
}

/** A short, one-line description of a value for an error message; never walks more than one level. */
export function describe(x: unknown, level = 0): string {
  if (x === null || x === undefined) return "None";
  if (typeof x === "boolean") return x ? "True" : "False";
  if (typeof x === "number" || typeof x === "bigint") return String(x);
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (x instanceof Uint8Array) return `bytes[${x.length}]`;
  if (x instanceof Global) return x.qualified;
  if (x instanceof StorageType) return `torch.${x.name}`;
  if (x instanceof PyDict) return `a dict of ${x.map.size} items`;
  if (Array.isArray(x)) {
    if (level > 0) return `a tuple of ${x.length}`;
    const shown = x.slice(0, 5).map((v) => describe(v, level + 1));
    return `(${shown.join(", ")}${x.length > 5 ? ", …" : ""})`;
  }
  const kind = (x as { kind?: unknown }).kind;
  if (kind === "tensor") return "a tensor";
  if (kind === "storage") return "a storage";
  return "an object";
}
