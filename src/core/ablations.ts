/**
 * Ablation specs as the CLI and the panel write them, `L.H[:zero|mean][>L2.H2:q|k|v]`, and the checks
 * that make a bad one one clear error (a head the model lacks, a path into an earlier layer).
 */
import type { ModelConfig } from "./config";
import { HeadLensError } from "./errors";
import { headName } from "./heads";

/** Which of a later head's inputs a path ablation changes (TL's use_split_qkv_input hooks). */
export type HeadInput = "q" | "k" | "v";

/**
 * Head (layer, head)'s result z·W_O removed ("zero": TL's hook_z set to 0) or replaced by its mean over
 * the text's positions ("mean"), at every position. With `into`: only that later head's query, key or
 * value input sees the change (its residual input minus the result plus the replacement, LN recomputed
 * there); everything else sees the unablated stream, and the changed head's output flows on as usual.
 */
export interface HeadAblation {
  layer: number;
  head: number;
  kind: "zero" | "mean";
  into?: { layer: number; head: number; input: HeadInput };
}

const SPEC = /^(\d+)\.(\d+)(?::(zero|mean))?(?:>(\d+)\.(\d+):([qkv]))?$/;

/** "0.3", "0.3:mean", "0.3>1.0:k" (zero by default). */
export function parseAblation(spec: string): HeadAblation {
  const m = SPEC.exec(spec.trim());
  if (!m)
    throw new HeadLensError(`ablation "${spec}" is not L.H[:zero|mean][>L2.H2:q|k|v], e.g. 0.3, 0.3:mean or 0.3>1.0:k`, "request.ablation");
  const a: HeadAblation = { layer: Number(m[1]), head: Number(m[2]), kind: (m[3] as "zero" | "mean" | undefined) ?? "zero" };
  if (m[4] !== undefined) a.into = { layer: Number(m[4]), head: Number(m[5]), input: m[6] as HeadInput };
  return a;
}

/** "L0H3 zero", "L0H3 mean into L1H0's keys". */
export function describeAblation(a: HeadAblation): string {
  const inputs = { q: "queries", k: "keys", v: "values" } as const;
  return (
    `${headName(a.layer, a.head)} ${a.kind}` + (a.into ? ` into ${headName(a.into.layer, a.into.head)}'s ${inputs[a.into.input]}` : "")
  );
}

export function checkAblations(config: ModelConfig, ablations: HeadAblation[]): void {
  const { n_layers: L, n_heads: H } = config;
  const exists = (l: number, h: number) => Number.isInteger(l) && Number.isInteger(h) && l >= 0 && l < L && h >= 0 && h < H;
  const seen = new Set<string>();
  for (const a of ablations) {
    if (!exists(a.layer, a.head))
      throw new HeadLensError(`cannot ablate ${headName(a.layer, a.head)}: the model has ${L} layers × ${H} heads`, "request.ablation");
    if (a.kind !== "zero" && a.kind !== "mean")
      throw new HeadLensError(`ablation kind "${String(a.kind)}" is not zero or mean`, "request.ablation");
    if (a.into) {
      const t = a.into;
      if (!exists(t.layer, t.head))
        throw new HeadLensError(
          `cannot ablate into ${headName(t.layer, t.head)}: the model has ${L} layers × ${H} heads`,
          "request.ablation",
        );
      if (t.layer <= a.layer)
        throw new HeadLensError(
          `cannot ablate ${headName(a.layer, a.head)} into ${headName(t.layer, t.head)}: a head only reads the results of earlier layers`,
          "request.ablation",
        );
      if (!["q", "k", "v"].includes(t.input))
        throw new HeadLensError(`path input "${String(t.input)}" is not q, k or v`, "request.ablation");
    }
    // One ablation per head and target: two kinds for the same place would say two things.
    const key = `${headName(a.layer, a.head)}` + (a.into ? ` into ${headName(a.into.layer, a.into.head)}:${a.into.input}` : "");
    if (seen.has(key))
      throw new HeadLensError(`${key} is ablated twice; give one kind (zero or mean) per head and target`, "request.ablation");
    seen.add(key);
  }
}
