/** Words for `BOS r r` texts on the bundled demo-attn-2l: each one token of the model, in a seeded random order. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadLocalModel } from "../../src/worker/loaders/localModel";
import { REPO } from "./harness";

export const MODEL_DIR = join(REPO, "models", "demo-attn-2l");
export const model = loadLocalModel(MODEL_DIR);

export const WORDS = (
  "value system return people government country number string file data world state public power money water history family " +
  "market table model class method object error result point house school program"
).split(" ");
/** As many others, for a corrupted copy. */
export const OTHER_WORDS = (
  "time year way day thing man life child part case week company group problem fact hand place area book job word business side kind " +
  "head night home room mother line name city game story"
).split(" ");

const unk = (JSON.parse(readFileSync(join(MODEL_DIR, "vocab.json"), "utf8")) as { unk: number }).unk;
const oneToken = (w: string) => {
  const ids = model.vocab.encode(` ${w}`);
  return ids.length === 1 && ids[0] !== unk;
};

/** n of `words` that are one token of the model (not its UNK), shuffled by Fisher–Yates with a seeded generator. */
export function shuffled(words: string[], seed: number, n: number): string[] {
  let x = seed;
  const rand = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const single = words.filter(oneToken);
  assert.ok(single.length >= n, `only ${single.length} candidate words are one token of the model`);
  for (let i = single.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [single[i], single[j]] = [single[j], single[i]];
  }
  return single.slice(0, n);
}
