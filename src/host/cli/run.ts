/**
 * head-lens run: the model run forward on a text (BOS prepended) or on token ids (used as given);
 * prints each head's strongest attention edges and the next-token predictions, or everything as
 * JSON: {"model", "bos", "tokens", "attention" [L][H][T][T], "top" [T][k], "next" [T], "dla" [T][L][H]}.
 */
import { describeAblation, HeadAblation, parseAblation } from "../../core/ablations";
import { headName } from "../../core/heads";
import { errorMessage, HeadLensError, isHeadLensError } from "../../core/errors";
import { strongestEdges } from "../../core/patternThumbnail";
import type { TextScores } from "../../core/textScores";
import { AttentionResult, PatternPayload, RunInfo } from "../../protocol/attention";
import { COMMON_HELP, parseOptions, UsageError } from "./options";
import { jsonMembers, LazyArray, writeOut } from "./output";
import { InputChoice } from "./textInput";
import { withEngine } from "./session";

export const RUN_USAGE = `Usage: head-lens run [--model <m>] (--text "…" | --tokens ID,ID,…) [--ablate SPECS] [--json] [--top N]

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
                       token; null at the last position)}; with --ablate also "ablation": [{"layer",
                       "head","kind","into"}] and "baseline": {"next"} (the unablated run's "next")
  --ablate SPECS       run with heads ablated, comma-separated SPEC = L.H[:zero|mean][>L2.H2:q|k|v]:
                       zero (default) removes head L.H's result z·W_O at every position, mean puts
                       its mean over the text's positions there; >L2.H2:q|k|v changes only head
                       L2.H2's query, key or value input (a path ablation)
${COMMON_HELP}`;

export async function runCommand(argv: string[]): Promise<number> {
  const choice = new InputChoice();
  let top = 5,
    edges = 5,
    ablations: HeadAblation[] = [];
  const o = parseOptions(argv, (flag, take) => {
    if (choice.take(flag, take)) return true;
    if (flag === "--top") return ((top = take.int(1)), true);
    if (flag === "--edges") return ((edges = take.int(1)), true);
    if (flag === "--ablate") return ((ablations = parseAblations(take.value())), true);
    return false;
  });
  const what = choice.chosen();
  return withEngine(o, async (engine, modelDir) => {
    let patterns: PatternPayload | undefined;
    let scores: TextScores[][] = [],
      baseScores: TextScores[][] = [];
    // --json: the attention (nearly all of the document) is written while the engine computes the predictions.
    let head: Promise<boolean> | undefined;
    let failed = false; // the rest of the run failed: stop writing the attention (exit 1; stdout is cut short)
    const r = await engine
      .attention(
        { modelDir, input: what, patterns: "full", topK: top, ablations },
        {
          onEvent: (e) => {
            patterns = e.patterns;
            scores = e.textScores;
            if (o.json && !head)
              void (head = writeOut(until(() => failed, chain(["{"], jsonMembers(runJsonHead(e.run, e.patterns), true))))).catch(
                () => undefined,
              );
          },
        },
      )
      .catch(async (e) => {
        failed = true;
        await head;
        throw isHeadLensError(e) && e.code === "request.ablation" ? new UsageError(e.message) : e;
      });
    if (!patterns) throw new HeadLensError("the engine sent no attention patterns", "engine.protocol");
    // The baseline after the ablated run, which checks the ablations first.
    const baseline = ablations.length
      ? await engine
          .attention({ modelDir, input: what, patterns: "thumbnails", topK: 1 }, { onEvent: (e) => (baseScores = e.textScores) })
          .catch(async (e) => {
            failed = true;
            await head;
            throw e;
          })
      : undefined;

    const against = baseline && { run: baseline, scores: baseScores, ablatedScores: scores };
    if (!o.json) await writeOut([runReport(r, patterns, edges, against)]);
    else if (await head) await writeOut(chain(jsonMembers(runJsonRest(r, baseline), false), ["}\n"]));
  });
}

function* chain(...parts: Iterable<string>[]): Generator<string> {
  for (const p of parts) yield* p;
}

function* until(stop: () => boolean, parts: Iterable<string>): Generator<string> {
  for (const p of parts) {
    if (stop()) return;
    yield p;
  }
}

/** --ablate's list; a bad spec is a usage error (exit 2). */
function parseAblations(v: string): HeadAblation[] {
  try {
    const list = v
      .split(",")
      .filter((x) => x.trim())
      .map(parseAblation);
    if (!list.length) throw new Error("give at least one ablation, e.g. --ablate 0.3");
    return list;
  } catch (e) {
    throw new UsageError(`--ablate: ${errorMessage(e)}`);
  }
}

const round = (x: number, digits = 6) => Number(x.toPrecision(digits));

/**
 * The --json document's first fields, known when the patterns arrive (attention rows exactly as float32
 * gives them); each row is made as it is written (LazyArray): [L][H][T][T] is 16 M numbers at 1 024 tokens.
 */
export function runJsonHead(run: RunInfo, patterns: PatternPayload): Record<string, unknown> {
  const T = run.tokens.length;
  const layers = patterns.kind === "full" ? patterns.layers : [];
  const row = (p: Float32Array, h: number, i: number) => Array.from(p.subarray((h * T + i) * T, (h * T + i + 1) * T));
  return {
    model: run.model,
    bos: run.bos,
    tokens: run.tokens.map((t) => ({ id: t.id, token: t.token })),
    attention: new LazyArray(layers.length, (l) => new LazyArray(run.nHeads, (h) => new LazyArray(T, (i) => row(layers[l], h, i)))),
  };
}

/** The rest of the --json document (figures to 6 digits), with --ablate the ablation and the baseline's "next". */
export function runJsonRest(r: AttentionResult, baseline?: AttentionResult): Record<string, unknown> {
  const T = r.tokens.length,
    L = r.nLayers,
    H = r.nHeads;
  const body = {
    top: r.top.map((row) => row.map((p) => ({ id: p.id, token: p.token, p: round(p.p) }))),
    next: nextJson(r),
    dla: Array.from({ length: T }, (_, t) =>
      Array.from({ length: L }, (_, l) =>
        Array.from({ length: H }, (_, h) => {
          const v = r.dla[(t * L + l) * H + h];
          return Number.isNaN(v) ? null : round(v);
        }),
      ),
    ),
  };
  const ablated = baseline
    ? {
        ablation: r.ablations.map((a) => ({ layer: a.layer, head: a.head, kind: a.kind, into: a.into ?? null })),
        baseline: { next: nextJson(baseline) },
      }
    : {};
  return { ...body, ...ablated };
}

const nextJson = (r: AttentionResult) =>
  r.next.map((n) => (n ? { id: n.id, token: n.token, rank: n.rank, logprob: round(n.logProb) } : null));

/** Mean −log p of each actual next token (the text's loss); `repeats`: only of tokens that occurred earlier in the text. */
export function textLoss(r: AttentionResult, repeats = false): number {
  const from = r.bos !== null ? 1 : 0;
  const seen = (t: number) => r.tokens.slice(from, t + 1).some((x) => x.id === r.tokens[t + 1].id);
  const lps = r.next.flatMap((n, t) => (n && (!repeats || seen(t)) ? [n.logProb] : []));
  return lps.length ? -lps.reduce((a, b) => a + b, 0) / lps.length : NaN;
}

/** The baseline an ablated run is read against (text output). */
interface Against {
  run: AttentionResult;
  scores: TextScores[][];
  ablatedScores: TextScores[][];
}

/** What the ablation changed: the loss (all tokens, and tokens seen earlier), and the heads' scores on this text. */
function ablationLines(r: AttentionResult, b: Against): string[] {
  const f = (x: number) => (Number.isNaN(x) ? "n/a" : x.toFixed(3));
  const lines = [
    `Ablated: ${r.ablations.map(describeAblation).join("; ")}.`,
    `Loss ${f(textLoss(b.run))} → ${f(textLoss(r))}; on tokens that occurred earlier in the text ${f(textLoss(b.run, true))} → ${f(textLoss(r, true))}`,
  ];
  const changed: string[] = [];
  b.scores.forEach((layer, l) =>
    layer.forEach((s, h) => {
      for (const key of ["induction", "prevToken"] as const) {
        const was = s[key],
          now = b.ablatedScores[l]?.[h]?.[key];
        if (was !== null && now !== null && now !== undefined && Math.abs(now - was) >= 0.05)
          changed.push(`${headName(l, h)} ${key === "prevToken" ? "previous token" : "induction"} ${was.toFixed(2)} → ${now.toFixed(2)}`);
      }
    }),
  );
  lines.push(`Scores on this text that changed by 0.05 or more: ${changed.length ? changed.join(", ") : "none"}`);
  return lines;
}

/** Per head its strongest edges (query → key, weight), then each position's predictions. */
export function runReport(r: AttentionResult, patterns: PatternPayload, nEdges: number, against?: Against): string {
  const baseline = against?.run;
  const T = r.tokens.length,
    L = r.nLayers,
    H = r.nHeads;
  const tok = (i: number) => `${i} ${r.tokens[i].token}`;
  const lines = [
    `${r.model}: ${T} tokens${r.bos !== null ? " (BOS prepended)" : ""}` +
      (r.truncated ? `, the first ${r.truncated} text tokens dropped (n_ctx ${r.nCtx})` : ""),
    ...(against ? ablationLines(r, against) : []),
    "",
  ];
  if (patterns.kind === "full") {
    // Heads park spare attention on BOS: those edges say little, so they are left out.
    const skip = r.bos !== null ? 0 : -1;
    lines.push(`Strongest attention edges per head (query → key: weight${skip === 0 ? "; edges to BOS left out" : ""})`);
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        const edges = strongestEdges(patterns.layers[l], h, T, nEdges, 1, skip);
        lines.push(`${headName(l, h)}  ${edges.map((e) => `${tok(e.q)} → ${tok(e.k)}: ${e.w.toFixed(3)}`).join(", ")}`);
      }
    lines.push("");
  }
  lines.push("Next-token predictions per position (p); the actual next token's rank and log-prob");
  for (let t = 0; t < T; t++) {
    const n = r.next[t];
    const was = baseline?.next[t];
    const actual = n
      ? `next ${n.token} rank ${n.rank} logp ${n.logProb.toFixed(3)}` + (was ? ` (was ${was.rank}, ${was.logProb.toFixed(3)})` : "")
      : "(last position)";
    lines.push(`${tok(t).padEnd(18)} ${actual.padEnd(36)} | ${r.top[t].map((p) => `${p.token} ${p.p.toFixed(3)}`).join(", ")}`);
  }
  return lines.join("\n") + "\n";
}
