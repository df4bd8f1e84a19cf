/**
 * Hugging Face tokenizer.json vocabularies (e.g. NeelNanda/gpt-neox-tokenizer-digits, BOS <|BOS|> = 1)
 * through @huggingface/tokenizers, the maintained pure-JS port of HF tokenizers. Token bytes come
 * from the byte-level alphabet, so display follows the same rules as GPT-2 tokens.
 */
import { HeadLensError, oneLine } from "../../core/errors";
import { displayTokenBytes, unknownIdLabel } from "../../core/tokenDisplay";
import { MAX_TOKENIZER_BYTES, readBoundedJson } from "./jsonFile";
import { TokenPieces, Vocabulary } from "./vocabulary";

// The package ships a CommonJS build, but its declarations are ES modules: require, typed.
type TokenizersModule = typeof import("@huggingface/tokenizers", { with: { "resolution-mode": "import" } });
const { Tokenizer } = require("@huggingface/tokenizers") as TokenizersModule;
type Tokenizer = InstanceType<typeof Tokenizer>;

/** GPT-2's bytes_to_unicode, inverted: the byte-level alphabet back to bytes. */
function byteDecoder(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [String.fromCodePoint(cs[i]), b]));
}

export class HfTokenizerVocabulary implements Vocabulary {
  readonly tokenizer: string;
  readonly bos: number;
  private readonly tok: Tokenizer;
  private readonly byteLevel: boolean;
  private readonly special = new Map<number, string>();
  private readonly decoderMap = byteDecoder();

  constructor(
    json: Record<string, unknown>,
    readonly size: number,
    name: string,
    bos: number | undefined,
    label: string,
  ) {
    this.tokenizer = name;
    this.tok = new Tokenizer(json, {});
    this.byteLevel = JSON.stringify(json.decoder ?? {}).includes("ByteLevel");
    for (const t of (json.added_tokens as { id: number; content: string }[] | undefined) ?? []) this.special.set(t.id, t.content);
    const found = bos ?? this.tok.token_to_id("<|BOS|>") ?? this.tok.token_to_id("<|endoftext|>");
    if (found === undefined || found < 0 || found >= size)
      throw new HeadLensError(`${label}: no BOS token (<|BOS|> or <|endoftext|>) in the tokenizer; set bos_token_id`, "tokenizer.bos");
    this.bos = found;
  }

  static fromFile(path: string, size: number, name: string, bos?: number): HfTokenizerVocabulary {
    let json: unknown;
    try {
      json = readBoundedJson(path, MAX_TOKENIZER_BYTES, "tokenizer.json", "tokenizer.read");
    } catch (e) {
      if (e instanceof HeadLensError) throw e;
      throw new HeadLensError(`${path}: cannot read tokenizer.json (${oneLine((e as Error).message)})`, "tokenizer.read");
    }
    if (typeof json !== "object" || json === null || Array.isArray(json))
      throw new HeadLensError(`${path}: tokenizer.json must hold a JSON object`, "tokenizer.read");
    return new HfTokenizerVocabulary(json as Record<string, unknown>, size, name, bos, path);
  }

  bytes(id: number): Uint8Array | undefined {
    if (id < 0 || id >= this.size) return undefined;
    const special = this.special.get(id);
    if (special !== undefined) return Buffer.from(special, "utf8");
    const piece = this.tok.id_to_token(id);
    if (piece === undefined) return undefined;
    if (!this.byteLevel) return Buffer.from(piece, "utf8");
    const out: number[] = [];
    for (const ch of piece) {
      const b = this.decoderMap.get(ch);
      if (b === undefined) return Buffer.from(piece, "utf8");
      out.push(b);
    }
    return Uint8Array.from(out);
  }

  display(id: number): string {
    const b = this.bytes(id);
    return b ? displayTokenBytes(b) : unknownIdLabel(id);
  }

  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids.filter((id: number) => id < this.size);
  }

  encodePieces(text: string): TokenPieces {
    const ids = this.encode(text);
    return { ids, pieces: ids.map((id) => this.bytes(id)) };
  }
}
