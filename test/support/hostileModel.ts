/**
 * A small attention-only model whose vocabulary holds hostile token strings (markup, Markdown,
 * codicon syntax, entities, a 5 000-character token), written as a model folder with a Hugging Face
 * tokenizer.json (a WordLevel model; each line is one token and each line break another, so any
 * string, spaces included, can be a token of a text file). Built at test time, like every test model.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomWeights, writeModelDir } from "./models";

/** 5 000 characters, its ends distinguishable (a tooltip must carry it whole). */
export const LONG_TOKEN = `begin${"x".repeat(4992)}end`;

export const HOSTILE_TOKENS = [
  LONG_TOKEN,
  `'"><svg onload=alert(3)>`,
  "<img src=x onerror=alert(1)>",
  "[x](command:workbench.action.closeWindow)",
  "**bold**",
  "`code`",
  "$(zap)",
  "&amp;",
  "\\",
] as const;

const WORDS = ["the", "value", "of", "key"] as const;
const BOS = "<|BOS|>";
/** Vocabulary order: BOS, the line break, the words, the hostile tokens, [UNK]. */
export const HOSTILE_VOCAB: string[] = [BOS, "\n", ...WORDS, ...HOSTILE_TOKENS, "[UNK]"];

/** Model names are model text too: Markdown emphasis that must stay literal. */
export const HOSTILE_MODEL_NAME = "hostile_*tokens*";

/** The tokens of one passage, hostile strings between ordinary words. */
const PASSAGE = ["the", HOSTILE_TOKENS[1], "value", HOSTILE_TOKENS[2], "of", HOSTILE_TOKENS[3], HOSTILE_TOKENS[0], "key"]
  .concat(HOSTILE_TOKENS.slice(4))
  .concat(["the", "value"]);

/** A text of the model's tokens, one per line, the passage written twice (so attention has structure). */
export const HOSTILE_TEXT = [...PASSAGE, ...PASSAGE].join("\n") + "\n";

function tokenizerJson(): object {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: BOS, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "Split", pattern: { String: "\n" }, behavior: "Isolated", invert: false },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab: Object.fromEntries(HOSTILE_VOCAB.map((t, i) => [t, i])), unk_token: "[UNK]" },
  };
}

/** Writes the model folder (config.json, model.safetensors, tokenizer.json, priors.json) to `dir`. */
export function writeHostileModel(dir: string): string {
  const V = HOSTILE_VOCAB.length,
    D = 32,
    nCtx = 256; // room for the text: the attention run reads at most 64 characters per position
  const w = randomWeights({ V, D, H: 2, E: 8, L: 2, seed: 21, name: HOSTILE_MODEL_NAME });
  w.config.n_ctx = nCtx;
  w.config.tokenizer_name = "hostile-wordlevel";
  w.W_pos = { shape: [nCtx, D], data: new Float32Array(nCtx * D).map((_, i) => Math.sin(i * 12.9898) * 0.1) };
  writeModelDir(dir, w, "F32", { priors: "priors.json" });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson()));
  writeFileSync(join(dir, "priors.json"), JSON.stringify({ counts: HOSTILE_VOCAB.map((_, i) => 10 + i) }));
  return dir;
}
