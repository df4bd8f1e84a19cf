/**
 * head-lens patch: activation patching (TransformerLens's get_act_patch_attn_head_out_all_pos) —
 * for every head, the corrupted run with that head's result at every position taken from the clean
 * run, scored by logit[answer] − logit[wrong] at the last position. Unequal lengths or an empty text
 * exit 2.
 */
import { isHeadLensError } from "../../core/errors";
import { headName } from "../../core/heads";
import { AttentionInput } from "../../protocol/attention";
import { PatchResult, TokenChoice } from "../../protocol/whatIf";
import { COMMON_HELP, parseOptions, Taker, UsageError } from "./options";
import { withEngine } from "./session";
import { InputChoice } from "./textInput";
import { writeOut } from "./output";

export const PATCH_USAGE = `Usage: head-lens patch (--clean "…" --corrupt "…" | --clean-tokens IDS --corrupt-tokens IDS) [options]

Activation patching: runs the clean and the corrupted text (the same number of tokens; BOS
prepended to texts), then for every head the corrupted run with that head's result z·W_O at every
position taken from the clean run. The metric is logit[answer] − logit[wrong] at the last position;
each head's cell is its share of the gap, (patched − corrupt) / (clean − corrupt): 1 = the head alone
restores the clean behaviour.

Options:
  --clean "…" / --corrupt "…"                the two texts
  --clean-tokens IDS / --corrupt-tokens IDS  or comma-separated token ids (used as given)
  --answer TOK | --answer-id N               the answer (default: the clean run's top prediction)
  --wrong TOK | --wrong-id N                 the wrong token (default: the corrupted run's top prediction)
  --positions                                also patch each head at each position separately
  --json                                     {"model", "answer": {"id","token"}, "wrong": {…}, "clean",
                                             "corrupt", "heads": [L][H]} (and "positions": [L][H][T])
${COMMON_HELP}`;

/** --clean/--clean-tokens (or --corrupt…) into an InputChoice under the plain flag names it knows. */
function side(choice: InputChoice, flag: string, name: string, take: Taker): boolean {
  if (flag === `--${name}`) return choice.take("--text", take);
  if (flag === `--${name}-tokens`) return choice.take("--tokens", take);
  return false;
}

export async function patchCommand(argv: string[]): Promise<number> {
  const clean = new InputChoice(),
    corrupt = new InputChoice();
  let answer: TokenChoice | undefined,
    wrong: TokenChoice | undefined,
    positions = false;
  const o = parseOptions(argv, (flag, take) => {
    if (side(clean, flag, "clean", take) || side(corrupt, flag, "corrupt", take)) return true;
    if (flag === "--answer") return ((answer = { text: take.value() }), true);
    if (flag === "--answer-id") return ((answer = { id: take.int(0) }), true);
    if (flag === "--wrong") return ((wrong = { text: take.value() }), true);
    if (flag === "--wrong-id") return ((wrong = { id: take.int(0) }), true);
    if (flag === "--positions") return ((positions = true), true);
    return false;
  });
  const chosen = (c: InputChoice, name: string): AttentionInput => {
    try {
      return c.chosen();
    } catch {
      throw new UsageError(`say what the ${name} run is: --${name} "…" or --${name}-tokens ID,ID,… (one of them)`);
    }
  };
  const params = { clean: chosen(clean, "clean"), corrupt: chosen(corrupt, "corrupt"), answer, wrong, positions };
  if (positions && !o.json) throw new UsageError("--positions gives [L][H][T] figures: add --json (the text output is the heads' grid)");
  return withEngine(o, async (engine, modelDir) => {
    const r = await engine.patch({ modelDir, ...params }).catch((e) => {
      const usage =
        isHeadLensError(e) &&
        ["request.lengths", "request.empty", "request.noTokens", "request.answer", "request.token", "request.tooLong"].includes(e.code);
      throw usage ? new UsageError(e.message) : e;
    });
    await writeOut([o.json ? patchJson(r) : patchText(r)]);
  });
}

const round = (x: number) => Number(x.toPrecision(9));
const grid = (a: Float64Array, L: number, H: number, T = 1) =>
  Array.from({ length: L }, (_, l) =>
    Array.from({ length: H }, (_, h) =>
      T === 1 ? round(a[l * H + h]) : Array.from(a.subarray((l * H + h) * T, (l * H + h + 1) * T), round),
    ),
  );

export function patchJson(r: PatchResult): string {
  const T = r.cleanTokens.length;
  return (
    JSON.stringify({
      model: r.model,
      answer: r.answer,
      wrong: r.wrong,
      clean: round(r.clean),
      corrupt: round(r.corrupt),
      heads: grid(r.heads, r.nLayers, r.nHeads),
      ...(r.positions ? { positions: grid(r.positions, r.nLayers, r.nHeads, T) } : {}),
    }) + "\n"
  );
}

/** Each head's share of the clean − corrupt gap, as a layers × heads grid. */
export function patchText(r: PatchResult): string {
  const gap = r.clean - r.corrupt;
  const share = (x: number) => (x - r.corrupt) / gap;
  const percent = (x: number) => (Math.abs(gap) < 1e-9 ? "n/a" : `${(share(x) * 100).toFixed(0).replace(/^-0$/, "0")}%`);
  const lines = [
    `${r.model}: ${r.cleanTokens.length} tokens; metric logit[${r.answer.token}] − logit[${r.wrong.token}] at the last position`,
    `clean ${r.clean.toFixed(3)}, corrupted ${r.corrupt.toFixed(3)}; each head's share of the gap when patched from the clean run:`,
    "",
    "      " + Array.from({ length: r.nHeads }, (_, h) => `H${h}`.padStart(7)).join(""),
  ];
  for (let l = 0; l < r.nLayers; l++)
    lines.push(`L${l}    ` + Array.from({ length: r.nHeads }, (_, h) => percent(r.heads[l * r.nHeads + h]).padStart(7)).join(""));
  if (Math.abs(gap) < 1e-9) lines.push("", "The clean and corrupted runs score the same: there is no gap to share.");
  else {
    let best = 0;
    for (let i = 1; i < r.heads.length; i++) if (share(r.heads[i]) > share(r.heads[best])) best = i;
    lines.push("", `Largest share: ${headName(Math.floor(best / r.nHeads), best % r.nHeads)} (${percent(r.heads[best])} of the gap)`);
  }
  return lines.join("\n") + "\n";
}
