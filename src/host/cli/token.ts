/** `head-lens token`: which heads care about one token — its exact rank as a key in every head. */
import { headName } from "../../core/heads";
import { fmt2 } from "../../core/reportText";
import { TokenResult } from "../../protocol/engine";
import { COMMON_HELP, parseOptions, UsageError } from "./options";
import { showProgress, withEngine } from "./session";
import { writeOut } from "./output";

export const TOKEN_USAGE = `Usage: head-lens token (TEXT | --id N) [--model <m>] [options]

For one token, every head: its exact rank among all keys by importance (0 = the head's most
important key), importance, max QK, max OV, its best keys as a query, and where it ranks among
its own outputs (0 = the head copies it). TEXT must be one token (" foo" and "foo" differ).

Options:
  --id N               the token by id instead of text
  --keys N             best keys listed per head (default 5)
  --priors P           uniform | bundled | path to a words.txt (default bundled)
  --strategy S         auto (default), dense or pruned (see analyze --help)
${COMMON_HELP}`;

export async function tokenCommand(argv: string[]): Promise<number> {
  let id: number | undefined,
    text: string | undefined,
    n = 5;
  const o = parseOptions(argv, (flag, take) => {
    if (!flag.startsWith("--") && text === undefined) return ((text = flag), true); // flags' values never arrive here
    if (flag === "--id") return ((id = take.int(0)), true);
    if (flag === "--keys") return ((n = take.int(1)), true);
    return false;
  });
  if ((id === undefined) === (text === undefined)) throw new UsageError("say which token: a TEXT argument or --id N (one of them)");
  const progress = showProgress(o);
  return withEngine(o, async (engine, modelDir) => {
    const r = await engine.token(
      { modelDir, priors: o.prior, token: id !== undefined ? { id } : { text: text! }, n, strategy: o.strategy },
      { onEvent: (e) => progress && e.type === "progress" && process.stderr.write(`\r${(100 * e.fraction).toFixed(0).padStart(3)}%`) },
    );
    if (progress) process.stderr.write("\r\x1b[K");
    await writeOut([o.json ? JSON.stringify(r) + "\n" : tokenText(r)]);
  });
}

export function tokenText(r: TokenResult): string {
  const out = [`Token ${r.token.token} (id ${r.token.id}) in ${r.model}, heads by its rank as a key (0 = most important key):`, ""];
  out.push("head    key rank   importance   max QK   max OV   own-output rank   best keys as a query");
  for (const h of r.heads) {
    out.push(
      headName(h.layer, h.head).padEnd(8) +
        String(h.keyRank).padStart(8) +
        h.importance.toPrecision(3).padStart(13) +
        fmt2(h.maxQK).padStart(9) +
        fmt2(h.maxOV).padStart(9) +
        String(h.selfOutputRank).padStart(18) +
        "   " +
        h.bestKeys.map((k) => k.token).join(" "),
    );
  }
  return out.join("\n") + "\n";
}
