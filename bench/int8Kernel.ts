/**
 * Benchmark: the full-width passes behind the pruned strategy, one V×V circuit (V = 48 262,
 * rank 64) each, interleaved round-robin so machine load hits every variant alike: the float32
 * row-max pass (what dense runs), the int8 bound pass with one MatMulInteger over all columns
 * (the old graph) and column-chunked graphs at several row-block sizes. Wall and CPU seconds,
 * medians; run it with the machine otherwise idle for absolute numbers.
 *
 *   npm run pretest && node out/bench/int8Kernel.js [--repeats 5] [--grid 64x3072,512x1024 (rows×columns)]
 */
import { loadavg } from "node:os";
import { int8RowMaxBounds } from "../src/worker/int8Bounds";
import { OrtBackend } from "../src/worker/ortBackend";
import { blockedRowMax } from "../src/worker/streamedReductions";
import { gaussianFiller } from "../test/support/random";

const arg = (name: string, dflt: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : dflt);
const REPEATS = arg("--repeats", 5),
  V = arg("--vocab", 48262),
  E = 64;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const backend = await OrtBackend.create({ epPreference: ["cpu"] });
  const fill = gaussianFiller(3);
  const x = fill(new Float32Array(V * E), 1),
    y = fill(new Float32Array(V * E), 1);
  const yt = new Float32Array(E * V);
  for (let j = 0; j < V; j++) for (let e = 0; e < E; e++) yt[e * V + j] = y[j * E + e];
  const variants: [string, () => Promise<unknown>][] = [
    ["float32 MatMul+ReduceMax, 64-row blocks (dense)", () => blockedRowMax(backend, x, yt, V, E, V, 64, () => {})],
    ["int8, one node over all columns, 64-row blocks (old)", () => int8RowMaxBounds(backend, x, V, y, V, E, 64, () => {}, V)],
  ];
  const grid = process.argv.includes("--grid")
    ? process.argv[process.argv.indexOf("--grid") + 1].split(",").map((p) => p.split("x").map(Number))
    : [
        [64, 3072],
        [128, 3072],
        [256, 1024],
        [256, 2048],
        [512, 1024],
        [512, 512],
        [1024, 512],
      ];
  for (const [rows, chunk] of grid) {
    variants.push([
      `int8, ${chunk}-column nodes, ${rows}-row blocks`,
      () => int8RowMaxBounds(backend, x, V, y, V, E, rows, () => {}, chunk),
    ]);
  }
  const wall = variants.map((): number[] => []),
    cpu = variants.map((): number[] => []);
  for (let r = 0; r < REPEATS; r++) {
    for (let i = 0; i < variants.length; i++) {
      const t = performance.now(),
        c = process.cpuUsage();
      await variants[i][1]();
      const dc = process.cpuUsage(c);
      wall[i].push((performance.now() - t) / 1000);
      cpu[i].push((dc.user + dc.system) / 1e6);
    }
  }
  console.log(
    `one V×V pass, V=${V}, rank ${E}, ${REPEATS} repeats interleaved; load ${loadavg()
      .map((l: number) => l.toFixed(2))
      .join(" ")}`,
  );
  variants.forEach(([name], i) =>
    console.log(
      `  ${name.padEnd(54)} wall ${median(wall[i]).toFixed(3)} s  cpu ${median(cpu[i]).toFixed(3)} s  ` +
        `(${(median(cpu[0]) / median(cpu[i])).toFixed(2)}× dense cpu)`,
    ),
  );
  await backend.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
