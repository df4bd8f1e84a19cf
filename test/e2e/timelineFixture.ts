/**
 * A model folder with a `checkpoints/` history for the timeline panel's e2e test — UI FIXTURES, NOT A
 * TRAINING HISTORY: checkpoint k is the bundled demo-attn-2l's weights mixed with one fixed draw of
 * noise, α_k · W + (1 − α_k) · N(mean W, std W) per tensor, α rising from 0 to 1 over the labels, so
 * the heads' metrics move from a random model's to the demo's (its induction head appears). Until the
 * demo ships its own history (models/demo-attn-2l/checkpoints/), this is what the panel is shown.
 *
 * Expected figures come from the CLI's `metrics --json` on each checkpoint as a model folder of its
 * own (config.json + that checkpoint as model.safetensors): the engine's metrics of the weights, not
 * the timeline or the panel that the test checks.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelMetrics } from "../../src/core/headMetrics";
import { parseSafetensors, readFloatTensor, writeSafetensors } from "../../src/core/safetensors";
import { gaussianFiller } from "../support/random";
import { REPO } from "./harness";

export const FIXTURE_NAME = "demo-history";
/** Training steps (label 0 included: the log axis must hold it), and how much of the demo each checkpoint is. */
export const LABELS = [0, 4, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
const ALPHA = [0, 0.04, 0.1, 0.18, 0.28, 0.4, 0.52, 0.64, 0.76, 0.86, 0.94, 1];

export interface Fixture {
  dir: string;
  /** The CLI's metrics of each checkpoint, by label. */
  expected: Map<number, ModelMetrics>;
}

export function writeFixture(root: string): Fixture {
  const demo = join(REPO, "models", "demo-attn-2l");
  const dir = join(root, FIXTURE_NAME);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  const config = { ...JSON.parse(readFileSync(join(demo, "config.json"), "utf8")), model_name: FIXTURE_NAME };
  const file = parseSafetensors(readFileSync(join(demo, "model.safetensors")), "demo");
  const names = [...file.tensors.keys()].sort();
  const fill = gaussianFiller(2024);
  const tensors = names.map((name) => {
    const { data, shape } = readFloatTensor(file, name);
    const mean = data.reduce((s, x) => s + x, 0) / data.length;
    const std = Math.sqrt(data.reduce((s, x) => s + (x - mean) ** 2, 0) / data.length) || 1e-3;
    const noise = fill(new Float32Array(data.length), std).map((x) => x + mean);
    return { name, shape, data, noise };
  });
  const expected = new Map<number, ModelMetrics>();
  LABELS.forEach((label, k) => {
    const a = ALPHA[k];
    const bytes = writeSafetensors(
      tensors.map((t) => ({ name: t.name, dtype: "F32", shape: t.shape, data: t.data.map((x, i) => a * x + (1 - a) * t.noise[i]) })),
    );
    writeFileSync(join(dir, "checkpoints", `demo_${label}.safetensors`), bytes);
    // The same weights as a model folder of their own, for the CLI's metrics.
    const alone = join(root, `alone-${label}`);
    mkdirSync(alone, { recursive: true });
    for (const f of ["vocab.json", "priors.json"]) copyFileSync(join(demo, f), join(alone, f));
    writeFileSync(join(alone, "config.json"), JSON.stringify({ ...config, model_name: `alone-${label}` }));
    writeFileSync(join(alone, "model.safetensors"), bytes);
    const out = execFileSync(process.execPath, [join(REPO, "dist", "cli.js"), "metrics", "--model", alone, "--json"], {
      encoding: "utf8",
      env: { ...process.env, XDG_CACHE_HOME: join(root, "cli-cache") },
    });
    expected.set(label, JSON.parse(out) as ModelMetrics);
    if (k === LABELS.length - 1) writeFileSync(join(dir, "model.safetensors"), bytes); // the folder's model: the last checkpoint
  });
  for (const f of ["vocab.json", "priors.json"]) copyFileSync(join(demo, f), join(dir, f));
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  return { dir, expected };
}
