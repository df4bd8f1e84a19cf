/**
 * Token priors p (one probability per model id):
 * - "uniform": 1/V;
 * - a words.txt path: the notebook's semantics (each non-empty trimmed line encoded without BOS,
 *   every token counted, p = count/total, + 1e-10 everywhere, renormalized);
 * - "bundled": unigram counts shipped with the model (its training corpus) or, for the GPT-2
 *   tokenizer, the GPT-2-wide counts in media/priors/gpt2.json; smoothed like words.txt.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HeadLensError, oneLine } from "../../core/errors";
import { PriorSpec } from "../../core/priorSpec";
import { fileHash, sha256 } from "../fileIdentity";
import { readBoundedJson } from "./jsonFile";
import { Gpt2Tokenizer, MappedGpt2Vocabulary, Vocabulary } from "./vocabulary";

export interface Prior {
  /** Human-readable source, e.g. "bundled (model corpus)". */
  source: string;
  p: Float64Array;
}

const SMOOTHING = 1e-10;

export function uniformPrior(size: number): Prior {
  return { source: "uniform", p: new Float64Array(size).fill(1 / size) };
}

/** counts -> count/total + 1e-10, renormalized (exactly the notebook's smoothing). */
export function priorFromCounts(counts: ArrayLike<number>, source: string): Prior {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const p = new Float64Array(counts.length);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    p[i] = (total > 0 ? counts[i] / total : 0) + SMOOTHING;
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return { source, p };
}

export function wordsPrior(text: string, vocab: Vocabulary, source: string): Prior {
  const counts = new Float64Array(vocab.size);
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    for (const id of vocab.encode(line)) counts[id]++;
  }
  return priorFromCounts(counts, source);
}

/** Where a model's prior files are. */
export interface PriorFiles {
  /** Model folder, for a model's own priors file. */
  modelDir?: string;
  /** File name of the model's own unigram counts, from config.json "priors". */
  modelPriorsFile?: string;
  /** Folder holding priors/ (the extension or package media folder). */
  mediaDir: string;
}

export interface PriorContext extends PriorFiles {
  vocab: Vocabulary;
}

/** A prior named by its identity (what it is computed from) before it is built. */
export interface PriorSource {
  /** "uniform", "bundled:<sha256 of the counts file>" or "words:<sha256 of the words file>:<its path>". */
  identity: string;
  build(vocab: Vocabulary): Prior;
}

/**
 * Resolves a prior spec to its identity without building it. A words file is named by the sha256 of
 * its bytes, recomputed when its stamp changes (fileIdentity.ts, as model files are): an edited file
 * is a different prior even within one long-lived engine, and asking again reads nothing.
 */
export function resolvePrior(spec: PriorSpec, files: PriorFiles): PriorSource {
  if (spec === "uniform") return { identity: "uniform", build: (vocab) => uniformPrior(vocab.size) };
  if (spec === "bundled") {
    const file = bundledPriorFile(files);
    const hash = fileHash(file);
    if (!hash) throw new HeadLensError(`the bundled prior ${file} is missing; use --priors uniform or a words.txt`, "priors.missing");
    return { identity: `bundled:${hash}`, build: (vocab) => bundledPrior({ ...files, vocab }, file) };
  }
  const path = spec.wordsFile;
  const hash = readWords(path, () => fileHash(path));
  if (!hash) throw unreadable(path, "ENOENT");
  return {
    identity: `words:${hash}:${path}`,
    build: (vocab) => {
      const bytes = readWords(path, () => readFileSync(path));
      // Built from the bytes the identity names: a file edited in between would be stored under the old one.
      if (sha256(bytes) !== hash) throw new HeadLensError(`priors file ${path}: it changed while it was read; run it again`, "priors.read");
      return wordsPrior(bytes.toString("utf8"), vocab, `words file ${path}`);
    },
  };
}

function readWords<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw unreadable(path, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
}

const unreadable = (path: string, why: string) =>
  new HeadLensError(`priors file ${path}: cannot read it (${why}); pass "uniform", "bundled" or a words.txt path`, "priors.read");

export function loadPrior(spec: PriorSpec, ctx: PriorContext): Prior {
  return resolvePrior(spec, ctx).build(ctx.vocab);
}

/** The counts file "bundled" reads: the model's own (its training corpus), else Head Lens's GPT-2 counts. */
function bundledPriorFile(ctx: PriorFiles): string {
  if (ctx.modelDir && ctx.modelPriorsFile) return join(ctx.modelDir, ctx.modelPriorsFile);
  return join(ctx.mediaDir, "priors", "gpt2.json");
}

function bundledPrior(ctx: PriorContext, file: string): Prior {
  if (ctx.modelDir && ctx.modelPriorsFile) {
    const path = file;
    const counts = readCounts(path);
    if (counts.length !== ctx.vocab.size) {
      throw new HeadLensError(`${path}: has ${counts.length} counts but the model has d_vocab ${ctx.vocab.size}`, "priors.invalid");
    }
    return priorFromCounts(counts, "bundled (the model's training corpus)");
  }
  const shared = file;
  if (!existsSync(shared))
    throw new HeadLensError(`the bundled prior ${shared} is missing; use --priors uniform or a words.txt`, "priors.missing");
  const raw = readJson(shared) as { ids?: number[]; counts?: number[] };
  if (!Array.isArray(raw.ids) || !Array.isArray(raw.counts) || raw.ids.length !== raw.counts.length) {
    throw new HeadLensError(`${shared}: expected {"ids": [...], "counts": [...]} of equal length`, "priors.invalid");
  }
  const counts = new Float64Array(ctx.vocab.size);
  if (ctx.vocab.tokenizer === "gpt2" && !(ctx.vocab instanceof MappedGpt2Vocabulary)) {
    raw.ids.forEach((id, i) => {
      if (id >= 0 && id < counts.length) counts[id] = raw.counts![i];
    });
    return priorFromCounts(counts, "bundled (Head Lens prose + code corpus)");
  }
  // Another tokenizer: re-tokenize each GPT-2 token's text and spread its count over the pieces.
  // An approximation of the corpus's unigram distribution under this tokenizer (token boundaries
  // across GPT-2 tokens are not seen), far closer than uniform.
  const gpt2 = Gpt2Tokenizer.get();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  raw.ids.forEach((id, i) => {
    const bytes = gpt2.bytes(id);
    if (!bytes || id === Gpt2Tokenizer.BOS) return;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return; // a partial UTF-8 character on its own
    }
    for (const m of ctx.vocab.encode(text)) counts[m] += raw.counts![i];
  });
  return priorFromCounts(counts, "bundled (Head Lens corpus, re-tokenized from GPT-2 counts)");
}

function readCounts(path: string): number[] {
  const raw = readJson(path) as { counts?: unknown };
  if (!Array.isArray(raw.counts) || !raw.counts.every((c) => typeof c === "number" && c >= 0)) {
    throw new HeadLensError(`${path}: expected {"counts": [non-negative numbers, one per model id]}`, "priors.invalid");
  }
  return raw.counts as number[];
}

function readJson(path: string): unknown {
  try {
    // One count per id: d_vocab ≤ 2^22 counts fit in 64 MiB.
    return readBoundedJson(path, 64 * 1024 * 1024, "priors file", "priors.read") ?? {};
  } catch (e) {
    if (e instanceof HeadLensError) throw e;
    throw new HeadLensError(`${path}: cannot read JSON (${oneLine((e as Error).message)})`, "priors.read");
  }
}
