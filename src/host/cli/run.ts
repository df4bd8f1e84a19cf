/**
 * head-lens run: the model run forward on a text (BOS prepended) or on token ids (used as given);
 * prints each head's strongest attention edges and the next-token predictions, or everything as
 * JSON: {"model", "bos", "tokens", "attention" [L][H][T][T], "top" [T][k], "next" [T], "dla" [T][L][H]}.
 */
import { headName } from "../../core/heads";
import { HeadLensError } from "../../core/errors";
import { topKeys } from "../../core/patternThumbnail";
import { AttentionResult, PatternPayload } from "../../protocol/attention";
import { COMMON_HELP, parseOptions } from "./options";
import { InputChoice } from "./textInput";
import { withEngine } from "./session";

export const RUN_USAGE = `Usage: head-lens run [--model <m>] (--text "…" | --tokens ID,ID,…) [--json] [--top N]

Runs the model forward on a text (tokenized with the model's tokenizer, BOS prepended, as
TransformerLens's to_tokens does; longer than n_ctx: the last n_ctx − 1 tokens after BOS) or on
token ids (used as given, at most n_ctx). Prints each head's strongest attention edges and the
top next-token predictions at every position.

Options:
  --text "…"           the text to run on
  --tokens LIST        comma-separated token ids instead of a text
  --top N              next-token predictions per position (default 5)
  --edges N            strongest edges printed per head (default 5; text output)
  --json               {"model", "bos", "tokens": [{"id","token"}], "attention": [L][H][T][T]
                       (row = query position, column = key position), "top": [T][N] of
                       {"id","token","p"}, "next": [T] of {"id","token","rank","logprob"} or null,
                       "dla": [T][L][H] (each head's direct logit attribution to the actual next
                       token; null at the last position)}
${COMMON_HELP}`;

export async function runCommand(argv: string[]): Promise<number> {
  const choice = new InputChoice();
  let top = 5,
    edges = 5;
  const o = parseOptions(argv, (flag, take) => {
    if (choice.take(flag, take)) return true;
    if (flag === "--top") return ((top = take.int(1)), true);
    if (flag === "--edges") return ((edges = take.int(1)), true);
    return false;
  });
  const what = choice.chosen();
  return withEngine(o, async (engine, modelDir) => {
    let patterns: PatternPayload | undefined;
    const r = await engine.attention({ modelDir, input: what, patterns: "full", topK: top }, { onEvent: (e) => (patterns = e.patterns) });
    if (!patterns) throw new HeadLensError("the engine sent no attention patterns", "engine.protocol");
    process.stdout.write(o.json ? runJson(r, patterns) : runReport(r, patterns, edges));
  });
}

const round = (x: number, digits = 6) => Number(x.toPrecision(digits));

/** The --json document (attention rows exactly as float32 gives them, other figures to 6 digits). */
export function runJson(r: AttentionResult, patterns: PatternPayload): string {
  const T = r.tokens.length,
    L = r.nLayers,
    H = r.nHeads;
  const layers = patterns.kind === "full" ? patterns.layers : [];
  const attention = layers.map((p) =>
    Array.from({ length: H }, (_, h) => Array.from({ length: T }, (_, i) => Array.from(p.subarray((h * T + i) * T, (h * T + i + 1) * T)))),
  );
  const body = {
    model: r.model,
    bos: r.bos,
    tokens: r.tokens.map((t) => ({ id: t.id, token: t.token })),
    attention,
    top: r.top.map((row) => row.map((p) => ({ id: p.id, token: p.token, p: round(p.p) }))),
    next: r.next.map((n) => (n ? { id: n.id, token: n.token, rank: n.rank, logprob: round(n.logProb) } : null)),
    dla: Array.from({ length: T }, (_, t) =>
      Array.from({ length: L }, (_, l) =>
        Array.from({ length: H }, (_, h) => {
          const v = r.dla[(t * L + l) * H + h];
          return Number.isNaN(v) ? null : round(v);
        }),
      ),
    ),
  };
  return JSON.stringify(body) + "\n";
}

/** Per head its strongest edges (query → key, weight), then each position's predictions. */
export function runReport(r: AttentionResult, patterns: PatternPayload, nEdges: number): string {
  const T = r.tokens.length,
    L = r.nLayers,
    H = r.nHeads;
  const tok = (i: number) => `${i} ${r.tokens[i].token}`;
  const lines = [
    `${r.model}: ${T} tokens${r.bos !== null ? " (BOS prepended)" : ""}` +
      (r.truncated ? `, the first ${r.truncated} text tokens dropped (n_ctx ${r.nCtx})` : ""),
    "",
  ];
  if (patterns.kind === "full") {
    // Heads park spare attention on BOS: those edges say little, so they are left out.
    const skip = r.bos !== null ? 0 : -1;
    lines.push(`Strongest attention edges per head (query → key: weight${skip === 0 ? "; edges to BOS left out" : ""})`);
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const p = patterns.layers[l];
        const edges: { q: number; k: number; w: number }[] = [];
        for (let q = 1; q < T; q++)
          for (const e of topKeys(p.subarray((h * T + q) * T, (h * T + q + 1) * T), nEdges + 1))
            if (e.key !== skip) edges.push({ q, k: e.key, w: e.weight });
        edges.sort((a, b) => b.w - a.w || a.q - b.q || a.k - b.k);
        lines.push(
          `${headName(l, h)}  ${edges
            .slice(0, nEdges)
            .map((e) => `${tok(e.q)} → ${tok(e.k)}: ${e.w.toFixed(3)}`)
            .join(", ")}`,
        );
      }
    lines.push("");
  }
  lines.push("Next-token predictions per position (p); the actual next token's rank and log-prob");
  for (let t = 0; t < T; t++) {
    const n = r.next[t];
    const actual = n ? `next ${n.token} rank ${n.rank} logp ${n.logProb.toFixed(3)}` : "(last position)";
    lines.push(`${tok(t).padEnd(18)} ${actual.padEnd(36)} | ${r.top[t].map((p) => `${p.token} ${p.p.toFixed(3)}`).join(", ")}`);
  }
  return lines.join("\n") + "\n";
}
