/**
 * Runs the model forward on one sequence of ids (live attention): the body graph gives patterns,
 * head logit attributions and the final residual; the unembedding then runs in blocks of positions
 * so that at most `blockBytes` of [rows, V] logits exist at a time. Sessions are built once per
 * model identity and reused for every length (the graphs have a symbolic sequence dimension).
 */
import type * as Ort from "onnxruntime-node";
import { unembedDirection } from "../core/scoreAttribution";
import { ModelWeights } from "../core/weights";
import type { HeadAblation } from "../protocol/whatIf";
import { bodyGraph, unembedGraph } from "./attentionGraph";
import { patchGraph } from "./patchGraph";
import { OrtBackend } from "./ortBackend";

export interface BodyOutput {
  /** Per layer [H, T, T]. */
  patterns: Float32Array[];
  /** Per layer [H, T]: head h's direct logit attribution at position t to ids[t + 1]. */
  dla: Float32Array[];
  /** [T, D]: the residual stream after the final normalization (the unembedding's input). */
  final: Float32Array;
  /** What "why" needs (core/scoreAttribution.ts): per layer v and z [H, T, E], ln1's scale [T]
   * (null without normalization), and the final LayerNorm's scale. */
  v: Float32Array[];
  z: Float32Array[];
  lnScale: (Float32Array | null)[];
  finalScale: Float32Array | null;
  /** Per layer [T, D]: the residual stream before it (hook_resid_pre), where a patch starts. */
  residPre: Float32Array[];
}

export interface UnembedOutput {
  /** [T, K] log-probs of the top-K next tokens, most likely first. */
  topLogProb: Float32Array;
  /** [T, K] their ids. */
  topId: Int32Array;
  /** [T]: log-prob of ids[t + 1] (the last position's entry is meaningless). */
  nextLogProb: Float32Array;
  /** [T]: 1 + how many logits exceed that of ids[t + 1]. */
  nextRank: Int32Array;
}

interface ModelSessions {
  key: string;
  body: Promise<Ort.InferenceSession>;
  /** Body graphs with ablations built in, by the ablations' key (the last ABLATED_KEPT sets). */
  ablated: Map<string, Promise<Ort.InferenceSession>>;
  /** Patching tails, by the layer they start at (patchGraph.ts). */
  tails: Map<number, Promise<Ort.InferenceSession>>;
  unembed?: { k: number; session: Promise<Ort.InferenceSession> };
  /** Runs using these sessions now: they are released only when none is (a run of another model
   * starting meanwhile must not dispose of a session under a run still in flight). */
  users: number;
  /** Replaced unembedding sessions, released with the rest. */
  retired: Promise<Ort.InferenceSession>[];
}

/** What one run uses: the model's sessions, held until `done`. */
export interface SessionLease {
  /** The forward pass, with these ablations built in (none: the model as it is). */
  body(ablations?: HeadAblation[]): Promise<Ort.InferenceSession>;
  /** The forward pass from layer `l` with a patch there (activation patching). */
  tail(l: number): Promise<Ort.InferenceSession>;
  unembed(k: number): Promise<Ort.InferenceSession>;
  done(): void;
}

/** Sessions of the model last run (a new model, or new content, replaces them once no run uses them). */
export class AttentionSessions {
  private current?: ModelSessions;
  private readonly draining = new Set<ModelSessions>();

  constructor(private readonly backend: OrtBackend) {}

  lease(key: string, w: ModelWeights): SessionLease {
    if (this.current?.key !== key) {
      const old = this.current;
      // A → B → A while A's first run is still in flight: take A's draining sessions back, not a second copy.
      const draining = [...this.draining].find((d) => d.key === key);
      if (draining) this.draining.delete(draining);
      this.current = draining ?? {
        key,
        body: this.backend.createSession(bodyGraph(w)),
        ablated: new Map(),
        tails: new Map(),
        users: 0,
        retired: [],
      };
      if (old) this.retire(old);
    }
    const s = this.current;
    s.users++;
    let held = true;
    return {
      body: (ablations = []) => {
        if (!ablations.length) return s.body;
        const id = ablationKey(ablations);
        let session = s.ablated.get(id);
        if (!session) {
          session = this.backend.createSession(bodyGraph(w, ablations));
          s.ablated.set(id, session);
          const oldest = s.ablated.keys().next().value!;
          if (s.ablated.size > ABLATED_KEPT) {
            s.retired.push(s.ablated.get(oldest)!);
            s.ablated.delete(oldest);
          }
        }
        return session;
      },
      tail: (l) => {
        if (!s.tails.has(l)) s.tails.set(l, this.backend.createSession(patchGraph(w, l)));
        return s.tails.get(l)!;
      },
      unembed: (k) => {
        if (s.unembed?.k !== k) {
          if (s.unembed) s.retired.push(s.unembed.session);
          s.unembed = { k, session: this.backend.createSession(unembedGraph(w, k)) };
        }
        return s.unembed.session;
      },
      done: () => {
        if (!held) return;
        held = false;
        s.users--;
        if (s !== this.current && this.draining.has(s)) this.retire(s);
        else if (s.users === 0 && s.retired.length) void releaseAll(s.retired.splice(0));
      },
    };
  }

  /** Releases every session, waiting for none (the backend is going away). */
  async release(): Promise<void> {
    const all = [...this.draining, ...(this.current ? [this.current] : [])];
    this.current = undefined;
    this.draining.clear();
    for (const s of all) await releaseAll(sessionsOf(s));
  }

  private retire(s: ModelSessions): void {
    if (s.users > 0) {
      this.draining.add(s);
      return;
    }
    this.draining.delete(s);
    void releaseAll(sessionsOf(s));
  }
}

const sessionsOf = (s: ModelSessions) => [
  s.body,
  ...s.ablated.values(),
  ...s.tails.values(),
  ...(s.unembed ? [s.unembed.session] : []),
  ...s.retired,
];

/** Ablated graphs kept per model (a user toggles between a few). */
const ABLATED_KEPT = 4;

/** One name for a set of ablations, whatever their order. */
export function ablationKey(ablations: HeadAblation[]): string {
  const one = (a: HeadAblation) => `${a.layer}.${a.head}:${a.kind}` + (a.into ? `>${a.into.layer}.${a.into.head}:${a.into.input}` : "");
  return ablations.map(one).sort().join(",");
}

async function releaseAll(sessions: Promise<Ort.InferenceSession>[]): Promise<void> {
  for (const p of sessions) await p.then((x) => x.release()).catch(() => undefined);
}

/** Each position's next-token attribution direction (the last position's is unused: zeros). */
function nextTokenDirections(w: ModelWeights, ids: number[]): Float32Array {
  const D = w.config.d_model;
  const dir = new Float32Array(ids.length * D);
  for (let t = 0; t + 1 < ids.length; t++) dir.set(unembedDirection(w, ids[t + 1]), t * D);
  return dir;
}

export async function runBody(backend: OrtBackend, session: Ort.InferenceSession, w: ModelWeights, ids: number[]): Promise<BodyOutput> {
  const { d_model: D } = w.config;
  const T = ids.length;
  const shortformer = w.config.positional_embedding_type === "shortformer";
  const resid0 = new Float32Array(T * D);
  const pos = shortformer ? w.W_pos.data.slice(0, T * D) : undefined;
  for (let t = 0; t < T; t++) {
    const e = ids[t] * D,
      o = t * D;
    for (let d = 0; d < D; d++) resid0[o + d] = w.W_E.data[e + d] + (shortformer ? 0 : w.W_pos.data[o + d]);
  }
  const keep = new Uint8Array(T * T);
  for (let i = 0; i < T; i++) keep.fill(1, i * T, i * T + i + 1);
  const feeds: Record<string, Ort.Tensor> = {
    resid0: backend.tensor("float32", resid0, [T, D]),
    keep: backend.tensor("bool", keep, [T, T]),
    dir: backend.tensor("float32", nextTokenDirections(w, ids), [T, D]),
  };
  if (pos) feeds.pos = backend.tensor("float32", pos, [T, D]);
  const r = await session.run(feeds);
  return {
    patterns: w.blocks.map((_, l) => r[`pattern${l}`].data as Float32Array),
    dla: w.blocks.map((_, l) => r[`dla${l}`].data as Float32Array),
    final: r.final.data as Float32Array,
    v: w.blocks.map((_, l) => r[`v${l}`].data as Float32Array),
    z: w.blocks.map((_, l) => r[`z${l}`].data as Float32Array),
    lnScale: w.blocks.map((_, l) => (r[`lnScale${l}`]?.data as Float32Array) ?? null),
    finalScale: (r.finalScale?.data as Float32Array) ?? null,
    residPre: w.blocks.map((_, l) => r[`residPre${l}`].data as Float32Array),
  };
}

/** Top-K, and the actual next token's log-prob and rank, for every position, `rows` at a time. */
export async function runUnembed(
  backend: OrtBackend,
  session: Ort.InferenceSession,
  w: ModelWeights,
  final: Float32Array,
  ids: number[],
  K: number,
  rows: number,
  check: () => void,
): Promise<UnembedOutput> {
  const { d_model: D } = w.config;
  const T = ids.length;
  const out: UnembedOutput = {
    topLogProb: new Float32Array(T * K),
    topId: new Int32Array(T * K),
    nextLogProb: new Float32Array(T),
    nextRank: new Int32Array(T),
  };
  const next = BigInt64Array.from({ length: T }, (_, t) => BigInt(t + 1 < T ? ids[t + 1] : 0));
  for (let start = 0; start < T; start += rows) {
    check();
    const end = Math.min(T, start + rows),
      n = end - start;
    const r = await session.run({
      x: backend.tensor("float32", final.subarray(start * D, end * D), [n, D]),
      next: backend.tensor("int64", next.subarray(start, end), [n]),
    });
    out.topLogProb.set(r.topLogProb.data as Float32Array, start * K);
    const topId = r.topId.data as BigInt64Array;
    for (let i = 0; i < topId.length; i++) out.topId[start * K + i] = Number(topId[i]);
    out.nextLogProb.set(r.nextLogProb.data as Float32Array, start);
    const above = r.above.data as Int32Array;
    for (let i = 0; i < n; i++) out.nextRank[start + i] = above[i] + 1;
  }
  return out;
}
