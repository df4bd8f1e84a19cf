// The metric error quantization costs: for every checkpoint in QUANT_DIR with a float32 twin in F32_DIR
// (quantize_checkpoints.py --f32-out), builds two model folders beside the bundled model's config.json,
// vocab.json and priors.json, runs `head-lens metrics --json` on both (build first: npm run build) and
// prints the largest |difference| per metric: every head's copying, prevToken, induction,
// duplicateToken, bos, and every q / k / v composition score.
//   node training/metric-error.mjs F32_DIR QUANT_DIR [MODEL_DIR=models/demo-attn-2l]
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [f32Dir, quantDir, modelDir = "models/demo-attn-2l"] = process.argv.slice(2);
if (!f32Dir || !quantDir) {
  console.error("usage: node training/metric-error.mjs F32_DIR QUANT_DIR [MODEL_DIR]");
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), "metric-error-"));
const metrics = (weights, name) => {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of ["config.json", "vocab.json", "priors.json"]) copyFileSync(join(modelDir, f), join(dir, f));
  copyFileSync(weights, join(dir, "model.safetensors"));
  return JSON.parse(execFileSync(process.execPath, ["dist/cli.js", "metrics", "--model", dir, "--json"], { encoding: "utf8" }));
};
const worst = {};
const note = (key, a, b, where) => {
  const d = Math.abs(a - b);
  if (!(key in worst) || d > worst[key].diff) worst[key] = { diff: d, where };
};
const files = readdirSync(quantDir).filter((f) => f.endsWith(".safetensors"));
for (const f of files) {
  const exact = metrics(join(f32Dir, f), `f32-${f}`);
  const quant = metrics(join(quantDir, f), `q-${f}`);
  exact.heads.forEach((h, i) => {
    for (const k of ["copying", "prevToken", "induction", "duplicateToken", "bos"]) note(k, h[k], quant.heads[i][k], `${f} L${h.layer}H${h.head}`);
  });
  for (const mode of ["q", "k", "v"]) {
    exact.composition[mode].forEach((a, l1) =>
      a.forEach((b, h1) =>
        b.forEach((c, l2) => c.forEach((v, h2) => note(`composition.${mode}`, v, quant.composition[mode][l1][h1][l2][h2], `${f} L${l1}H${h1}→L${l2}H${h2}`))),
      ),
    );
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`${files.length} checkpoints; largest |float32 − quantized| per metric:`);
for (const [k, v] of Object.entries(worst)) console.log(`${k.padEnd(16)} ${v.diff.toFixed(4)}  (${v.where})`);
