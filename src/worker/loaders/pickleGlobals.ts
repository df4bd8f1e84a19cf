/**
 * What the restricted unpickler (pickle.ts) lets a checkpoint's pickle build, and nothing more: the
 * allow-listed globals (OrderedDict, the tensor and parameter rebuilders, storage types), the
 * persistent ids of storages, and BUILD of a state dict's attributes. Each checks its arguments'
 * shapes and sizes and refuses anything else with an error that names it.
 */
import { Global, PyDict, StorageRef, StorageType, TensorRef, ValueSizes, describe } from "./pickleValues";

export type Fail = (what: string) => never;

const STORAGE_TYPES = [
  "FloatStorage",
  "HalfStorage",
  "BFloat16Storage",
  "DoubleStorage",
  "LongStorage",
  "IntStorage",
  "ShortStorage",
  "CharStorage",
  "ByteStorage",
  "BoolStorage",
];
export const ALLOWED = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  ...STORAGE_TYPES.map((s) => `torch.${s}`),
]);
/** torch tensors have at most 64 dimensions. */
const MAX_DIMS = 64;

const isCount = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

export function persistent(pid: unknown, fail: Fail): StorageRef {
  const p = Array.isArray(pid) ? pid : [];
  if (
    p.length !== 5 ||
    p[0] !== "storage" ||
    !(p[1] instanceof StorageType) ||
    typeof p[2] !== "string" ||
    !/^[\w.-]{1,64}$/.test(p[2]) ||
    !isCount(p[4])
  ) {
    fail(`unexpected persistent id ${describe(pid)}; expected ('storage', type, key, location, numel)`);
  }
  return { kind: "storage", type: p[1] as StorageType, key: p[2] as string, numel: p[4] as number };
}

export function reduce(fn: unknown, args: unknown, sizes: ValueSizes, fail: Fail): unknown {
  if (!(fn instanceof Global)) return fail(`refuses to call ${describe(fn)}`);
  if (!Array.isArray(args)) return fail(`REDUCE of ${fn.qualified} without an argument tuple`);
  switch (fn.qualified) {
    case "collections.OrderedDict": {
      const pairs = args.length === 0 ? [] : args[0];
      if (!Array.isArray(pairs) || !pairs.every((kv) => Array.isArray(kv) && kv.length === 2))
        return fail("OrderedDict(...) of something other than (key, value) pairs");
      const d = sizes.made(new PyDict(), pairs.flat());
      for (const [k, v] of pairs as unknown[][]) d.map.set(k, v);
      return d;
    }
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride] = args as [StorageRef, unknown, unknown, unknown];
      const dims = (x: unknown): x is number[] => Array.isArray(x) && x.length <= MAX_DIMS && x.every(isCount);
      if (
        (storage as StorageRef | undefined)?.kind !== "storage" ||
        !isCount(offset) ||
        !dims(size) ||
        !dims(stride) ||
        size.length !== stride.length
      ) {
        return fail(`malformed _rebuild_tensor_v2 arguments ${describe(args)}`);
      }
      const t: TensorRef = { kind: "tensor", storage, offset, size, stride };
      return sizes.made(t, [size, stride]);
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state":
      if ((args[0] as TensorRef | undefined)?.kind !== "tensor")
        return fail(`${fn.qualified} of ${describe(args[0])}, which is not a tensor`);
      return args[0];
    default:
      return fail(`refuses to call ${fn.qualified}`);
  }
}

export function build(obj: unknown, state: unknown, sizes: ValueSizes, fail: Fail): void {
  if (obj instanceof PyDict && state instanceof PyDict) {
    sizes.grew(obj, [state]);
    for (const [k, v] of state.map) if (typeof k === "string") obj.attrs.set(k, v); // e.g. OrderedDict._metadata
    return;
  }
  fail(`refuses BUILD on ${describe(obj)} (only state-dict attributes may be set)`);
}
