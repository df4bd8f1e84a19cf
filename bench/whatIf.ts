/**
 * Benchmark: what if, on 1 024 tokens of the V = 48 262, 2 × 8 model — an ablated run (a head
 * zeroed; a path ablation into one later head's keys) against a plain run of the same text side by
 * side (sessions built, medians), and the full 16-head activation-patching grid (clean and corrupted
 * runs, then one tail per head from the patched layer on). Goals (issue #23): ablated ≤ 1.5× plain;
 * patching grid ≤ 2 s.
 *
 *   npm run bench:whatif [-- --repeats 5]
 */
import { availableParallelism, cpus } from "node:os";
import { HeadAblation, parseAblation } from "../src/core/ablations";
import { AttentionEvent } from "../src/protocol/attention";
import { ModelStore } from "../src/worker/modelStore";
import { OrtBackend } from "../src/worker/ortBackend";
import { patch } from "../src/worker/patching";
import { AttentionRuns, runText } from "../src/worker/runText";
import { MEDIA_DIR } from "../test/support/engine";
import { BIG_MODEL_NAME, writeBigModel } from "./bigModel";
import { median, record } from "./record";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPEATS = arg("--repeats", 5);
const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms [${xs.map((x) => x.toFixed(0)).join(", ")}]`;

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} threads; medians of ${REPEATS} after a warm-up`);
  const big = writeBigModel();
  const backend = await OrtBackend.create({ epPreference: ["cpu"], threads: availableParallelism() });
  const deps = { store: new ModelStore(MEDIA_DIR), runs: new AttentionRuns(), backend: async () => backend, blockBytes: 12 << 20 };
  const ctx = { emit: (_: AttentionEvent) => undefined, signal: new AbortController().signal, throwIfCancelled: () => undefined };
  const run = async (ablations: HeadAblation[]) => {
    const t0 = performance.now();
    await runText({ modelDir: big.dir, input: { tokens: big.ids }, patterns: "thumbnails", ablations }, ctx, deps);
    return performance.now() - t0;
  };
  const specs = { plain: [], "L0H3 zero": [parseAblation("0.3")], "L0H3 zero into L1H0's keys": [parseAblation("0.3>1.0:k")] };
  const times: Record<string, number[]> = {};
  const first: Record<string, number> = {};
  for (const [name, ablations] of Object.entries(specs)) first[name] = await run(ablations); // sessions built
  for (let i = 0; i < REPEATS; i++) for (const [name, ablations] of Object.entries(specs)) (times[name] ??= []).push(await run(ablations));
  console.log(`\n${BIG_MODEL_NAME} (whole run: patterns, predictions, attributions):`);
  for (const name of Object.keys(specs))
    console.log(
      `  ${name.padEnd(28)} ${ms(times[name])}` +
        (name === "plain" ? "" : `  ${(median(times[name]) / median(times.plain)).toFixed(2)}× plain`) +
        `; its first run (graph and session built) ${first[name].toFixed(0)} ms`,
    );

  let x = 99;
  const corrupt = big.ids.map((id, t) => (t > 0 && t < 512 ? 1 + ((x = (x * 48271) % 2147483647) % 48000) : id));
  const grid = async () => {
    const t0 = performance.now();
    await patch(
      { modelDir: big.dir, clean: { tokens: big.ids }, corrupt: { tokens: corrupt }, answer: { id: 5 }, wrong: { id: 6 } },
      ctx,
      deps,
    );
    return performance.now() - t0;
  };
  await grid();
  const g: number[] = [];
  for (let i = 0; i < REPEATS; i++) g.push(await grid());
  console.log(`  patching grid, 16 heads      ${ms(g)}  (clean and corrupted runs included)`);
  const plain = { name: "a plain run", value: median(times.plain) };
  for (const [id, name] of [
    ["whatif.zero", "L0H3 zero"],
    ["whatif.path", "L0H3 zero into L1H0's keys"],
  ]) {
    const v = median(times[name]);
    record({
      id,
      what: `ablated run (${name}), 1 024 tokens, 48k 2 × 8`,
      value: v,
      unit: "ms",
      peer: plain,
      goal: "≤ 1.5× plain",
      met: v <= 1.5 * plain.value,
    });
  }
  record({
    id: "whatif.grid",
    what: "activation-patching grid, 16 heads, 1 024 tokens",
    value: median(g),
    unit: "ms",
    goal: "≤ 2 s",
    met: median(g) <= 2000,
  });
  await backend.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
