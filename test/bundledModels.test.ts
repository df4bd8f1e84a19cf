import { test, describe, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { processWeights } from "../src/core/processing";
import { loadLocalModel } from "../src/worker/loaders/localModel";
import { loadPrior } from "../src/worker/loaders/priors";
import { OrtBackend } from "../src/worker/ortBackend";
import { cardScores } from "./support/cardScores";
import { MappedGpt2Vocabulary } from "../src/worker/loaders/vocabulary";
import { assertMatchesOracle } from "./support/compare";
import { streamOracle } from "./support/streamOracle";
import { MEDIA_DIR, REPO_ROOT, testEngine } from "./support/engine";
import { mulberry32 } from "./support/random";

const engine = testEngine(4 * 1024 * 1024);
after(() => engine.dispose());

/** Reads the "| layer | H0 | ..." score table that follows `heading` in the model card. */
function cardTable(card: string, heading: string): number[][] {
  const lines = card.slice(card.indexOf(heading)).split("\n");
  const isRow = (l: string) => /^\| \d+ \|/.test(l);
  const rows: number[][] = [];
  for (let i = lines.findIndex(isRow); i >= 0 && i < lines.length && isRow(lines[i]); i++)
    rows.push(lines[i].split("|").slice(2, -1).map(Number));
  return rows;
}

for (const name of ["demo-attn-1l", "demo-attn-2l"]) {
  describe(`bundled ${name}`, () => {
    const dir = join(REPO_ROOT, "models", name);
    const model = loadLocalModel(dir);
    const processed = processWeights(model.weights);

    test("loads, validates and is a trimmed-GPT-2 attention-only model under 10 MB", () => {
      const c = model.config;
      assert.equal(c.attn_only, true);
      assert.equal(c.normalization_type, "LN");
      assert.equal(c.positional_embedding_type, "standard");
      assert.ok(model.vocab instanceof MappedGpt2Vocabulary);
      assert.equal(model.vocab.display(model.vocab.bos), "'<|endoftext|>'");
      assert.ok(readFileSync(join(dir, "model.safetensors")).byteLength < 10 * 1024 * 1024);
    });

    test("the id map round-trips text", () => {
      const text = "The quick brown dog said that the function returns None.\n    def __init__(self, x):";
      const ids = model.vocab.encode(text);
      const unk = (model.vocab as MappedGpt2Vocabulary).unk;
      assert.ok(!ids.includes(unk), "common English and Python need no UNK");
      const bytes = Buffer.concat(ids.map((id) => Buffer.from(model.vocab.bytes(id)!)));
      assert.equal(bytes.toString("utf8"), text);
    });

    test("the engine agrees with the float64 reference on a head of the last layer", async () => {
      const layer = model.config.n_layers - 1,
        head = 1;
      const sizes = { nKeys: 5, nQueries: 10, nOutputs: 10 };
      const [r] = await engine.analyze({ modelDir: dir, heads: [{ layer, head }], priors: "bundled", sizes });
      const prior = loadPrior("bundled", { vocab: model.vocab, modelDir: dir, modelPriorsFile: model.config.priors, mediaDir: MEDIA_DIR });
      assertMatchesOracle(
        r,
        streamOracle(processed, layer, head, model.vocab.bos, prior.p, sizes, (id) => model.vocab.display(id)),
      );
    });

    test("the model card's head scores are reproduced by the onnxruntime forward pass", async () => {
      const card = readFileSync(join(dir, "MODEL_CARD.md"), "utf8");
      const wantPrev = cardTable(card, "Previous-token score");
      const wantInd = cardTable(card, "Induction score");
      assert.equal(wantPrev.length, model.config.n_layers, "card has a previous-token row per layer");
      assert.equal(wantInd.length, model.config.n_layers, "card has an induction row per layer");
      const backend = await OrtBackend.create({ epPreference: ["cpu"] });
      const got = await cardScores(backend, model.weights, model.vocab.bos, mulberry32(7));
      await backend.dispose();
      // Different random sequences than the card's (PyTorch's RNG): agreement within sampling noise.
      for (let l = 0; l < model.config.n_layers; l++)
        for (let h = 0; h < model.config.n_heads; h++) {
          assert.ok(
            Math.abs(got.prevToken[l][h] - wantPrev[l][h]) < 0.03,
            `prev-token L${l}H${h}: ${got.prevToken[l][h]} vs card ${wantPrev[l][h]}`,
          );
          assert.ok(
            Math.abs(got.induction[l][h] - wantInd[l][h]) < 0.03,
            `induction L${l}H${h}: ${got.induction[l][h]} vs card ${wantInd[l][h]}`,
          );
        }
    });
  });
}
