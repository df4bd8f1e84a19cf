/**
 * The `attention` request: the active model run on the user's text (or ids). Text is tokenized
 * with the model's tokenizer and BOS is prepended, as TransformerLens's `to_tokens` does by default
 * (prepend_bos=True; one sequence, so no padding); ids are used as given. A text longer than n_ctx
 * keeps BOS and its last n_ctx − 1 tokens (TransformerLens would truncate the end instead; the
 * tokens next to the cursor are the ones a user looks at). Patterns stream first (as an event),
 * then the unembedding's predictions and the heads' logit attributions come with the reply.
 */
import { checkAblations, HeadAblation } from "../core/ablations";
import { HeadLensError } from "../core/errors";
import type { RunHooks } from "../core/scoreAttribution";
import type { ModelWeights } from "../core/weights";
import { headName } from "../core/heads";
import { headPattern, thumbnails } from "../core/patternThumbnail";
import { textScoresByLayer } from "../core/textScores";
import { spansFromTokenBytes } from "../core/tokenSpans";
import { HandlerContext } from "../protocol/channel";
import {
  AttentionEvent,
  AttentionParams,
  AttentionResult,
  PatternParams,
  PatternResult,
  PatternPayload,
  RunInfo,
  RunToken,
} from "../protocol/attention";
import { AttentionSessions, runBody, runUnembed } from "./attentionRun";
import { Vocabulary } from "./loaders/vocabulary";
import { ModelStore } from "./modelStore";
import { OrtBackend } from "./ortBackend";

/** Thumbnails are at most this many positions on a side (the grid draws them ≈ 120 px wide). */
export const THUMBNAIL_SIZE = 256;
/** Next-token predictions per position when a request names none (the unembedding session is built per K). */
export const DEFAULT_TOP_K = 5;
/** Recent runs whose exact patterns stay available (the panel asks about the one it shows). */
const KEPT_RUNS = 2;

export interface RunTextDeps {
  store: ModelStore;
  runs: AttentionRuns;
  backend: () => Promise<OrtBackend>;
  blockBytes: number;
}

/** A run kept for questions about it: its exact patterns, and the hooks "why" reads. */
export interface KeptRun {
  runId: string;
  model: string;
  identity: string;
  weights: ModelWeights;
  hooks: RunHooks;
  /** Position 0 holds the BOS token (prepended, or given as the first id). */
  startsWithBos: boolean;
  /** What the run was computed under. */
  ablations: HeadAblation[];
}

/** The worker's live-attention state: the last runs' exact patterns, and the sessions built per model. */
export class AttentionRuns {
  private nextRun = 1;
  private readonly kept: KeptRun[] = [];
  private sessions?: { backend: OrtBackend; sessions: AttentionSessions };

  sessionsFor(backend: OrtBackend): AttentionSessions {
    if (this.sessions?.backend !== backend) {
      void this.sessions?.sessions.release(); // the old backend's sessions go with it
      this.sessions = { backend, sessions: new AttentionSessions(backend) };
    }
    return this.sessions.sessions;
  }

  /** Keeps a run (the last KEPT_RUNS runs); returns its id. */
  keep(run: Omit<KeptRun, "runId">): string {
    const runId = String(this.nextRun++);
    this.kept.push({ ...run, runId });
    if (this.kept.length > KEPT_RUNS) this.kept.shift();
    return runId;
  }

  /** A kept run and one of its heads, checked. */
  find(runId: string, layer: number, head: number): KeptRun {
    const run = this.kept.find((r) => r.runId === runId);
    if (!run) throw new HeadLensError(`attention run ${runId} is no longer kept; run Show Attention again`, "request.staleRun");
    const { n_layers: L, n_heads: H } = run.weights.config;
    if (!(Number.isInteger(layer) && Number.isInteger(head) && layer >= 0 && layer < L && head >= 0 && head < H)) {
      throw new HeadLensError(`no head ${headName(layer, head)} in this model (${L} layers × ${H} heads)`, "request.head");
    }
    return run;
  }

  /** One head's exact pattern from a kept run. */
  pattern(req: PatternParams): PatternResult {
    const { hooks } = this.find(req.runId, req.layer, req.head);
    const T = hooks.ids.length;
    return { ...req, T, weights: headPattern(hooks.patterns[req.layer], req.head, T) };
  }
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Ids with their places in the text; BOS first unless ids were given. */
export function tokensFor(
  vocab: Vocabulary,
  input: AttentionParams["input"],
  nCtx: number,
): { tokens: RunToken[]; bos: number | null; truncated: number } {
  const token = (id: number, start: number, end: number): RunToken => {
    const bytes = vocab.bytes(id);
    return { id, token: vocab.display(id), text: bytes ? decoder.decode(bytes) : vocab.display(id), start, end };
  };
  if ("tokens" in input) {
    const ids = input.tokens;
    if (ids.length === 0) throw new HeadLensError("no token ids given; pass at least one id", "request.noTokens");
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab.size);
    if (bad !== undefined)
      throw new HeadLensError(`token id ${bad} is outside the model's vocabulary (0–${vocab.size - 1})`, "request.token");
    if (ids.length > nCtx)
      throw new HeadLensError(`${ids.length} token ids exceed the model's context of ${nCtx}; pass at most ${nCtx}`, "request.tooLong");
    return { tokens: ids.map((id) => token(id, 0, 0)), bos: null, truncated: 0 };
  }
  const text = input.text;
  const nul = text.indexOf("\u0000");
  if (nul >= 0)
    throw new HeadLensError(`the text has a NUL character at offset ${nul} (a binary file?): Head Lens runs on text`, "request.binary");
  if (text.length === 0)
    throw new HeadLensError("the text is empty; select some text or put the cursor in a non-empty file", "request.empty");
  const { ids, pieces } = vocab.encodePieces(text);
  if (ids.length === 0)
    throw new HeadLensError("the text tokenizes to no tokens; select some text the model's tokenizer can read", "request.noTokens");
  const spans = spansFromTokenBytes(text, pieces);
  const keepFrom = Math.max(0, ids.length - (nCtx - 1));
  const tokens = [
    token(vocab.bos, 0, 0),
    ...ids.slice(keepFrom).map((id, i) => token(id, spans[keepFrom + i].start, spans[keepFrom + i].end)),
  ];
  return { tokens, bos: vocab.bos, truncated: keepFrom };
}

export async function runText(req: AttentionParams, ctx: HandlerContext<AttentionEvent>, deps: RunTextDeps): Promise<AttentionResult> {
  const t0 = performance.now();
  const stored = deps.store.load(req.modelDir);
  const { config, vocab, weights } = stored.model;
  const { tokens, bos, truncated } = tokensFor(vocab, req.input, config.n_ctx);
  const ids = tokens.map((t) => t.id);
  const T = ids.length,
    L = config.n_layers,
    H = config.n_heads;
  const K = Math.min(Math.max(1, req.topK ?? DEFAULT_TOP_K), config.d_vocab);
  const tokenizeMs = performance.now() - t0;
  const backend = await deps.backend();
  // Held for the whole run: a run of another model meanwhile does not dispose of these sessions under it.
  const lease = deps.runs.sessionsFor(backend).lease(`${stored.model.dir}|${stored.identity}`, weights);
  try {
    ctx.throwIfCancelled();
    const ablations = req.ablations ?? [];
    checkAblations(config, ablations);
    const body = await runBody(backend, await lease.body(ablations), weights, ids);
    ctx.throwIfCancelled();
    const run: RunInfo = {
      runId:
        req.keep === false
          ? ""
          : deps.runs.keep({
              model: config.model_name,
              identity: stored.identity,
              weights,
              startsWithBos: ids[0] === vocab.bos,
              ablations,
              hooks: {
                ids,
                patterns: body.patterns,
                z: body.z,
                v: body.v,
                lnScale: body.lnScale,
                finalScale: body.finalScale,
                dla: body.dla,
              },
            }),
      model: config.model_name,
      identity: stored.identity,
      nLayers: L,
      nHeads: H,
      nCtx: config.n_ctx,
      bos,
      tokens,
      truncated,
      ablations,
    };
    const patterns: PatternPayload =
      req.patterns === "full"
        ? { kind: "full", layers: body.patterns }
        : (() => {
            const layers = body.patterns.map((p) => thumbnails(p, H, T, THUMBNAIL_SIZE));
            return { kind: "thumbnails", size: layers[0].size, layers: layers.map((x) => x.data) };
          })();
    const patternsMs = performance.now() - t0;
    const textScores = textScoresByLayer(body.patterns, H, ids, bos !== null ? 1 : 0);
    ctx.emit({ type: "patterns", run, patterns, textScores, elapsedMs: patternsMs });

    const rows = Math.max(1, Math.floor(deps.blockBytes / (4 * config.d_vocab)));
    const u = await runUnembed(backend, await lease.unembed(K), weights, body.final, ids, K, rows, () => ctx.throwIfCancelled());
    const top = Array.from({ length: T }, (_, t) =>
      Array.from({ length: K }, (_, k) => {
        const id = u.topId[t * K + k];
        return { id, token: vocab.display(id), p: Math.exp(u.topLogProb[t * K + k]) };
      }),
    );
    const next = ids.map((_, t) =>
      t + 1 < T ? { id: ids[t + 1], token: tokens[t + 1].token, rank: u.nextRank[t], logProb: u.nextLogProb[t] } : null,
    );
    const dla = new Float32Array(T * L * H);
    for (let t = 0; t < T; t++) {
      for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) dla[(t * L + l) * H + h] = t + 1 < T ? body.dla[l][h * T + t] : NaN;
    }
    return { ...run, top, next, dla, ep: backend.ep, timings: { tokenizeMs, patternsMs, totalMs: performance.now() - t0 } };
  } finally {
    lease.done();
  }
}
