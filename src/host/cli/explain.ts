/**
 * head-lens explain: why one head attends from a query to its keys — the score split exactly into
 * query-side × key-side parts of the residual stream — and its logit effect at the query split by
 * source position (core/scoreAttribution.ts). A head or position outside the run exits 2.
 */
import { HeadLensError, isHeadLensError } from "../../core/errors";
import { headName, HeadRef } from "../../core/heads";
import { topSources } from "../../core/whyParts";
import { partLabel, signed, topTerms, WhyView } from "../../core/whyText";
import { RunInfo } from "../../protocol/attention";
import { ExplainResult } from "../../protocol/explain";
import { COMMON_HELP, parseOptions, UsageError } from "./options";
import { withEngine } from "./session";
import { InputChoice } from "./textInput";
import { writeOut } from "./output";

export const EXPLAIN_USAGE = `Usage: head-lens explain (--text "…" | --tokens ID,ID,…) --head L.H --query I [--key J] [--model <m>] [--json]

Why head L.H attends from query position I to its keys. Before layer L the residual stream is a sum
of parts (embed, pos, each earlier head's result, bias); LayerNorm's scale held at its value in this
run, the score q·k/√d_head splits exactly into query-part × key-part terms that sum to it. Terms are
ranked by what they add to this key's score relative to the other keys (the term minus its mean over
keys 0…I): a term equal at every key does not move the softmax. Then the head's direct logit
attribution at I to the actual next token, split by source position. Positions are token positions
(--text prepends BOS, as run does: position 0 is BOS).

Options:
  --text "…"           the text (BOS prepended)
  --tokens LIST        comma-separated token ids instead (used as given)
  --head L.H           the head, e.g. 1.0 (or L1H0)
  --query I            the query position
  --key J              the key to explain (≤ I; default: the query's strongest key other than BOS)
  --terms N            terms and sources printed (default 5; text output)
  --json               {"model", "head": {"layer","head"}, "query", "tokens": [{"id","token"}],
                       "components": ["embed","pos","L0H0",…,"bias"], "keys": [{"position","score",
                       "weight","terms": [C][C] (row = query-side part), "relative": [C][C]}] (every
                       key ≤ I, or only J), "sources": [{"position","dla"}] (absent at the last position)}
${COMMON_HELP}`;

/** "1.0" or "L1H0". */
function parseHead(v: string): HeadRef {
  const m = /^(\d+)\.(\d+)$/.exec(v) ?? /^L(\d+)H(\d+)$/i.exec(v);
  if (!m) throw new UsageError(`--head must be LAYER.HEAD such as 1.0 (got "${v}")`);
  return { layer: Number(m[1]), head: Number(m[2]) };
}

export async function explainCommand(argv: string[]): Promise<number> {
  const choice = new InputChoice();
  let head: HeadRef | undefined,
    query: number | undefined,
    key: number | undefined,
    nTerms = 5;
  const o = parseOptions(argv, (flag, take) => {
    if (choice.take(flag, take)) return true;
    if (flag === "--head") return ((head = parseHead(take.value())), true);
    if (flag === "--query") return ((query = take.int(0)), true);
    if (flag === "--key") return ((key = take.int(0)), true);
    if (flag === "--terms") return ((nTerms = take.int(1)), true);
    return false;
  });
  const input = choice.chosen();
  if (!head) throw new UsageError("say which head: --head L.H, e.g. --head 1.0");
  if (query === undefined) throw new UsageError("say which query position: --query I");
  if (key !== undefined && key > query) throw new UsageError(`--key ${key} is after --query ${query}: a query sees only keys 0…${query}`);
  const h = head,
    q = query;
  return withEngine(o, async (engine, modelDir) => {
    let run: RunInfo | undefined;
    await engine.attention({ modelDir, input, patterns: "thumbnails", topK: 1 }, { onEvent: (e) => (run = e.run) });
    if (!run) throw new HeadLensError("the engine sent no run", "engine.protocol");
    const r = await engine.explain({ runId: run.runId, ...h, query: q, ...(o.json || key === undefined ? {} : { key }) }).catch((e) => {
      // A head or position this run does not have is the caller's mistake: one line, exit 2.
      throw isHeadLensError(e) && (e.code === "request.head" || e.code === "request.position") ? new UsageError(e.message) : e;
    });
    await writeOut([o.json ? explainJson(run, r, key) : explainText(run, r, key ?? r.strongestKey, nTerms)]);
  });
}

const round = (x: number) => Number(x.toPrecision(9));
const matrix = (a: Float64Array, n: number, C: number) =>
  Array.from({ length: C }, (_, c) => Array.from(a.subarray((n * C + c) * C, (n * C + c + 1) * C), round));

export function explainJson(run: RunInfo, r: ExplainResult, onlyKey?: number): string {
  const C = r.components.length;
  const keys = r.keys
    .map((position, n) => ({
      position,
      score: round(r.scores[n]),
      weight: round(r.weights[n]),
      terms: matrix(r.terms, n, C),
      relative: matrix(r.relative, n, C),
    }))
    .filter((k) => onlyKey === undefined || k.position === onlyKey);
  return (
    JSON.stringify({
      model: r.model,
      head: { layer: r.layer, head: r.head },
      query: r.query,
      tokens: run.tokens.map((t) => ({ id: t.id, token: t.token })),
      components: r.components,
      keys,
      ...(r.sources ? { sources: Array.from(r.sources, (dla, position) => ({ position, dla: round(dla) })) } : {}),
    }) + "\n"
  );
}

export function explainText(run: RunInfo, r: ExplainResult, key: number, nTerms: number): string {
  const C = r.components.length;
  const n = r.keys.indexOf(key);
  const tokens = run.tokens.map((t) => t.token);
  const tok = (i: number) => `${i} ${tokens[i]}`;
  const view: WhyView = {
    tokens,
    components: r.components,
    movedAtQuery: r.movedAtQuery,
    movedAtKey: r.movedAtKeys[n],
    query: r.query,
    key,
  };
  const block = (x: Float64Array) => x.subarray(n * C * C, (n + 1) * C * C);
  const lines = [
    `${r.model} ${headName(r.layer, r.head)}: query ${tok(r.query)} → key ${tok(key)}`,
    `score ${r.scores[n].toFixed(3)}, weight ${r.weights[n].toFixed(3)}` + (key === r.strongestKey ? " (the query's strongest key)" : ""),
    "",
    `Terms that most favour this key over the others (each term minus its mean over keys 0…${r.query}):`,
  ];
  const terms = r.query === 0 ? [] : topTerms(block(r.terms), block(r.relative), C, nTerms);
  if (r.query === 0) lines.push(`  (none: position 0 sees only itself, so no other key to compare with)`);
  const left = terms.map((t) => `${signed(t.relative, 1)}  query ← ${partLabel(view, t.q, "query")}`);
  const width = Math.max(...left.map((s) => s.length));
  terms.forEach((t, i) => lines.push(`  ${left[i].padEnd(width)}   ×   key ← ${partLabel(view, t.k, "key")}`));
  lines.push("");
  if (r.sources && r.dla !== null) {
    const next = run.tokens[r.query + 1].token;
    lines.push(
      `${headName(r.layer, r.head)}'s direct logit attribution at ${r.query} to the next token ${next}: ${signed(r.dla)}, by source position:`,
    );
    for (const j of topSources(r.sources, nTerms)) lines.push(`  ${signed(r.sources[j]).padStart(7)}  ${tok(j)}`);
  } else lines.push(`No logit attribution at ${r.query}: it is the last position (no next token).`);
  return lines.join("\n") + "\n";
}
