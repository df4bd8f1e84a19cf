/**
 * Vocabularies map a model's token ids to display strings and text to ids. A model's ids may map
 * onto a subset of a tokenizer's ids (the bundled demo models use trimmed GPT-2 vocabularies).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { HeadLensError, oneLine } from "../../core/errors";
import { cutToken, displayTokenBytes, unknownIdLabel } from "../../core/tokenDisplay";
import { ModelConfig } from "../../core/config";
import { HfTokenizerVocabulary } from "./hfTokenizer";
import { readBoundedJson } from "./jsonFile";

// js-tiktoken ships CommonJS builds, but its type declarations are ES modules: require, typed.
type TiktokenModule = typeof import("js-tiktoken/lite", { with: { "resolution-mode": "import" } });
type Gpt2RanksModule = typeof import("js-tiktoken/ranks/gpt2", { with: { "resolution-mode": "import" } });
const { Tiktoken } = require("js-tiktoken/lite") as TiktokenModule;
const ranksModule = require("js-tiktoken/ranks/gpt2") as Gpt2RanksModule & Partial<Gpt2RanksModule["default"]>;
const gpt2Ranks = (ranksModule.default ?? ranksModule) as Gpt2RanksModule["default"];

export interface Vocabulary {
  /** Tokenizer name, e.g. "gpt2". */
  readonly tokenizer: string;
  /** Number of model ids (d_vocab). */
  readonly size: number;
  /** BOS as a model id. */
  readonly bos: number;
  /** The token's bytes, or undefined when the id has no tokenizer string. */
  bytes(id: number): Uint8Array | undefined;
  /** Notebook-style display: `'tok'` with Python repr escapes; `<id N>` when there is no string. */
  display(id: number): string;
  /** Text to model ids (no BOS added). */
  encode(text: string): number[];
  /** encode, with the bytes of the text each id stands for (an UNK keeps the bytes it replaced). */
  encodePieces(text: string): TokenPieces;
}

export interface TokenPieces {
  ids: number[];
  /** Per id: its bytes in the text; undefined when unknown. */
  pieces: (Uint8Array | undefined)[];
}

/** GPT-2 BPE through js-tiktoken. Token bytes come from the published rank table. */
export class Gpt2Tokenizer {
  static readonly BOS = 50256;
  static readonly SIZE = 50257;
  private static shared?: Gpt2Tokenizer;
  private encoder?: InstanceType<typeof Tiktoken>;
  private readonly table: Uint8Array[];

  private constructor() {
    this.table = new Array(Gpt2Tokenizer.SIZE);
    for (const line of gpt2Ranks.bpe_ranks.split("\n")) {
      if (!line) continue;
      const [, offsetStr, ...tokens] = line.split(" ");
      const offset = Number.parseInt(offsetStr, 10);
      tokens.forEach((tok, i) => (this.table[offset + i] = Buffer.from(tok, "base64")));
    }
    for (const [text, id] of Object.entries(gpt2Ranks.special_tokens)) this.table[id] = Buffer.from(text, "utf8");
  }

  static get(): Gpt2Tokenizer {
    return (Gpt2Tokenizer.shared ??= new Gpt2Tokenizer());
  }

  bytes(id: number): Uint8Array | undefined {
    return this.table[id];
  }

  /** Special-token text is encoded as ordinary text, never as the special token. */
  encode(text: string): number[] {
    // Built on first use (≈ 0.2 s): analyses only display tokens, which need the table alone.
    this.encoder ??= new Tiktoken(gpt2Ranks);
    return this.encoder.encode(text, [], []);
  }
}

/** Model ids == GPT-2 ids (d_vocab may be padded past 50257: those ids have no string). */
export class Gpt2Vocabulary implements Vocabulary {
  readonly tokenizer = "gpt2";
  private readonly tok = Gpt2Tokenizer.get();
  constructor(
    readonly size: number,
    readonly bos: number = Gpt2Tokenizer.BOS,
  ) {}
  bytes(id: number): Uint8Array | undefined {
    return id >= 0 && id < this.size ? this.tok.bytes(id) : undefined;
  }
  display(id: number): string {
    const b = this.bytes(id);
    return b ? displayTokenBytes(b) : unknownIdLabel(id);
  }
  encode(text: string): number[] {
    return this.tok.encode(text).filter((id) => id < this.size);
  }
  encodePieces(text: string): TokenPieces {
    const ids = this.encode(text);
    return { ids, pieces: ids.map((id) => this.tok.bytes(id)) };
  }
}

/** A model whose ids map onto a subset of GPT-2's ids (-1 = UNK, which all other tokens become). */
export class MappedGpt2Vocabulary implements Vocabulary {
  readonly tokenizer = "gpt2";
  private readonly tok = Gpt2Tokenizer.get();
  private readonly toModel = new Map<number, number>();
  readonly size: number;
  constructor(
    private readonly gpt2Ids: number[],
    readonly bos: number,
    readonly unk: number,
  ) {
    this.size = gpt2Ids.length;
    gpt2Ids.forEach((g, i) => {
      if (g >= 0) this.toModel.set(g, i);
    });
  }
  bytes(id: number): Uint8Array | undefined {
    const g = this.gpt2Ids[id];
    return g === undefined || g < 0 ? undefined : this.tok.bytes(g);
  }
  display(id: number): string {
    if (id === this.unk) return "<unk>";
    const b = this.bytes(id);
    return b ? displayTokenBytes(b) : unknownIdLabel(id);
  }
  encode(text: string): number[] {
    return this.tok.encode(text).map((g) => this.toModel.get(g) ?? this.unk);
  }
  encodePieces(text: string): TokenPieces {
    const gpt2 = this.tok.encode(text);
    return { ids: gpt2.map((g) => this.toModel.get(g) ?? this.unk), pieces: gpt2.map((g) => this.tok.bytes(g)) };
  }
  gpt2Id(id: number): number | undefined {
    const g = this.gpt2Ids[id];
    return g === undefined || g < 0 ? undefined : g;
  }
}

/** The vocabulary a model folder's config asks for. */
export function vocabularyFor(config: ModelConfig, dir: string): Vocabulary {
  const label = join(dir, "config.json");
  const tokenizerJson = join(dir, "tokenizer.json");
  if (existsSync(tokenizerJson))
    return HfTokenizerVocabulary.fromFile(tokenizerJson, config.d_vocab, config.tokenizer_name, config.bos_token_id);
  if (config.tokenizer_name !== "gpt2") {
    throw new HeadLensError(
      `${label}: tokenizer "${config.tokenizer_name}" needs its tokenizer.json in the model folder (or use "gpt2")`,
      "tokenizer.unsupported",
    );
  }
  if (config.vocab_map) return loadVocabMap(join(dir, config.vocab_map), config);
  return new Gpt2Vocabulary(config.d_vocab, config.bos_token_id ?? Gpt2Tokenizer.BOS);
}

function loadVocabMap(path: string, config: ModelConfig): MappedGpt2Vocabulary {
  let raw: { gpt2Ids?: unknown; bos?: unknown; unk?: unknown };
  try {
    // ≈ 8 bytes per id: d_vocab ≤ 2^22 ids fit in 64 MiB.
    raw = (readBoundedJson(path, 64 * 1024 * 1024, "vocabulary map", "vocab.read") ?? {}) as typeof raw;
  } catch (e) {
    if (e instanceof HeadLensError) throw e;
    throw new HeadLensError(`${path}: cannot read the vocabulary map (${oneLine((e as Error).message)})`, "vocab.read");
  }
  const ids = raw.gpt2Ids as number[];
  const problem = gpt2IdsProblem(raw.gpt2Ids, config.d_vocab);
  if (problem)
    throw new HeadLensError(`${path}: ${problem}. Fix it: "gpt2Ids" lists one GPT-2 id (or -1 for UNK) per model id`, "vocab.invalid");
  const bos = config.bos_token_id ?? (raw.bos as number);
  const unk = typeof raw.unk === "number" ? raw.unk : -1;
  if (!Number.isInteger(bos) || bos < 0 || bos >= ids.length)
    throw new HeadLensError(`${path}: no valid BOS id (set "bos" here or "bos_token_id" in config.json)`, "vocab.invalid");
  return new MappedGpt2Vocabulary(ids, bos, unk);
}

/** What is wrong with a vocabulary map's "gpt2Ids", naming its first bad entry; undefined when nothing is. */
export function gpt2IdsProblem(ids: unknown, dVocab: number): string | undefined {
  if (!Array.isArray(ids)) return `"gpt2Ids" is ${ids === undefined ? "missing" : `not a list (${typeof ids})`}`;
  if (ids.length !== dVocab) return `"gpt2Ids" has ${ids.length} entries, but config.json's d_vocab is ${dVocab}`;
  const max = Gpt2Tokenizer.SIZE - 1;
  for (let i = 0; i < ids.length; i++) {
    const g: unknown = ids[i];
    const shown = cutToken(oneLine(JSON.stringify(g) ?? String(g)));
    if (typeof g !== "number" || !Number.isInteger(g)) return `gpt2Ids[${i}] is ${shown}, not an integer`;
    if (g < -1 || g > max) return `gpt2Ids[${i}] is ${shown}, outside GPT-2's ids 0–${max}`;
  }
  return undefined;
}
