/** `head-lens metrics`: every head's traits and the Q/K/V composition scores. */
import { ModelMetrics } from "../../core/headMetrics";
import { TraitKey } from "../../core/headTraits";
import { headName } from "../../core/heads";
import { COMMON_HELP, parseOptions } from "./options";
import { withEngine } from "./session";
import { writeOut } from "./output";

export const METRICS_USAGE = `Usage: head-lens metrics [--model <m>] [--json]

Every head's traits and how heads compose (definitions: README, "Head metrics"):
  copying      OV copying score Σλ/Σ|λ| of W_E W_V W_O W_U (Elhage et al. 2021)
  prev-token   attention to the previous token       } on 16 sequences BOS + r + r,
  induction    attention to the token after the      } r = 50 random tokens (seed fixed),
               earlier copy of the current token     } as TransformerLens's head detector
  duplicate    attention to the earlier copy itself  } and the induction literature
  bos          attention to BOS                      }
  composition  TransformerLens all_composition_scores, Q / K / V, earlier → later heads

Options:
${COMMON_HELP}`;

/** The columns, in the CLI's order (the traits' meanings are in core/headTraits.ts). */
const COLUMNS: [TraitKey, string][] = [
  ["copying", "copying"],
  ["prevToken", "prev-token"],
  ["induction", "induction"],
  ["duplicateToken", "duplicate"],
  ["bos", "bos"],
];

export async function metricsCommand(argv: string[]): Promise<number> {
  const o = parseOptions(argv, () => false);
  return withEngine(o, async (engine, modelDir) => {
    const { identity: _identity, ...m } = await engine.metrics(modelDir);
    await writeOut([o.json ? JSON.stringify(m) + "\n" : metricsText(m)]);
  });
}

const f3 = (x: number) => (Number.isNaN(x) ? "   n/a" : x.toFixed(3).padStart(6));

export function metricsText(m: ModelMetrics): string {
  const out = [`Head metrics (${m.model})`, "", `head   ${COLUMNS.map(([, t]) => t.padStart(12)).join("")}`];
  for (const h of m.heads) out.push(headName(h.layer, h.head).padEnd(7) + COLUMNS.map(([k]) => f3(h[k]).padStart(12)).join(""));
  for (const mode of ["q", "k", "v"] as const) {
    const pairs: [number, string][] = [];
    const c = m.composition[mode];
    c.forEach((a, l1) =>
      a.forEach((b, h1) =>
        b.forEach((row, l2) => row.forEach((v, h2) => l1 < l2 && pairs.push([v, `${headName(l1, h1)} → ${headName(l2, h2)}`]))),
      ),
    );
    pairs.sort((a, b) => b[0] - a[0]);
    out.push("", `${mode.toUpperCase()}-composition, strongest first:`, ...pairs.slice(0, 5).map(([v, p]) => `  ${p}  ${v.toFixed(3)}`));
  }
  return out.join("\n") + "\n";
}
