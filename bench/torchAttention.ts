/**
 * bench/attention's PyTorch peer (bench/torch_attention.py: TransformerLens's maths in float32 on 2
 * threads, what a user would otherwise run): its compute beside the engine's, the largest differences
 * from the engine's answer, and the whole CLI against the whole torch script as separate processes,
 * alternating, medians.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AttentionResult } from "../src/protocol/attention";
import { REPO_ROOT } from "../test/support/engine";
import { record } from "./record";

/** Debian's python3 has torch (the pyenv python3 on PATH does not); tcmalloc is what makes torch's CPU path fast. */
const PYTHON = "/usr/bin/python3";
const TORCH_ENV = { ...process.env, LD_PRELOAD: "libtcmalloc_minimal.so.4" };
const SCRIPT = join(REPO_ROOT, "bench", "torch_attention.py");

/** The peers' inputs: processed F32 weights, their config and the ids (bench/attention writes them). */
export interface PeerFiles {
  weights: string;
  config: string;
  ids: string;
}

export interface TorchTimes {
  torch: string;
  threads: number;
  import_s: number;
  load_s: number;
  cold_patterns_s: number;
  cold_total_s: number;
  patterns_s: number[];
  total_s: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Why the torch peer cannot run here, or undefined. */
export function torchMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const r = spawnSync(PYTHON, ["-c", "import torch"], { env: TORCH_ENV, encoding: "utf8" });
  return r.status === 0 ? undefined : `${PYTHON} cannot import torch (apt-get install python3-torch): ${r.stderr.trim().split("\n").pop()}`;
}

/** The torch peer in one process: a cold run, then `repeats` timed ones; with `dump`, its last results as raw arrays there. */
export function torchPeer(f: PeerFiles, repeats: number, dump?: string): TorchTimes {
  const r = spawnSync(PYTHON, [SCRIPT, f.weights, f.config, f.ids, String(repeats), ...(dump ? [dump] : [])], {
    encoding: "utf8",
    env: TORCH_ENV,
  });
  if (r.status !== 0) throw new Error(`torch peer failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as TorchTimes;
}

const f32 = (dir: string, name: string) => {
  const b = readFileSync(join(dir, name));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const i32 = (dir: string, name: string) => {
  const b = readFileSync(join(dir, name));
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

/** The engine's answer against torch's over every pattern weight, log-prob, rank, attribution and top-1 id. */
export function differencesFromTorch(dump: string, r: AttentionResult, patterns: Float32Array[]): string {
  const T = r.tokens.length,
    L = r.nLayers,
    H = r.nHeads;
  const tp = f32(dump, "patterns.f32"),
    lp = f32(dump, "next_logprob.f32"),
    rank = i32(dump, "rank.i32"),
    dla = f32(dump, "dla.f32"),
    top = i32(dump, "top_id.i32");
  let dp = 0,
    dl = 0,
    dd = 0,
    ranks = 0,
    top1 = 0;
  patterns.forEach((p, l) => p.forEach((x, i) => (dp = Math.max(dp, Math.abs(x - tp[l * H * T * T + i])))));
  for (let t = 0; t + 1 < T; t++) {
    dl = Math.max(dl, Math.abs(r.next[t]!.logProb - lp[t]));
    if (r.next[t]!.rank === rank[t]) ranks++;
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) dd = Math.max(dd, Math.abs(r.dla[(t * L + l) * H + h] - dla[(l * H + h) * (T - 1) + t]));
  }
  for (let t = 0; t < T; t++) if (r.top[t][0].id === top[t * 5]) top1++;
  return (
    `max |engine − torch| over all ${L * H} heads: patterns ${dp.toExponential(1)}, next log-prob ${dl.toExponential(1)}, ` +
    `DLA ${dd.toExponential(1)}; ranks equal at ${ranks}/${T - 1}, top-1 ids at ${top1}/${T} positions`
  );
}

/** Wall seconds of one process, its output discarded (the JSON is still made and written). */
function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} … failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/**
 * End to end as a user runs them, separate processes, alternating: `head-lens run` (text report, and
 * --json), the torch script once (import, load, one cold run). Medians of `reps`.
 */
export function endToEnd(modelDir: string, ids: number[], f: PeerFiles, reps: number): string[] {
  const cli = (...extra: string[]) => [join(REPO_ROOT, "dist", "cli.js"), "run", "--model", modelDir, "--tokens", ids.join(","), ...extra];
  const times = { text: [] as number[], json: [] as number[], torch: [] as number[] };
  for (let i = 0; i < reps; i++) {
    times.text.push(wall(process.execPath, cli()));
    times.torch.push(wall(PYTHON, [SCRIPT, f.weights, f.config, f.ids, "0"], TORCH_ENV));
    times.json.push(wall(process.execPath, cli("--json")));
  }
  const s = (xs: number[]) => `${median(xs).toFixed(2)} s [${xs.map((x) => x.toFixed(2)).join(", ")}]`;
  const m = { text: median(times.text), json: median(times.json), torch: median(times.torch) };
  const torch = { name: "the torch script end to end", value: m.torch };
  for (const [id, what, v] of [
    ["cli.run", "`head-lens run`, 1 024 tokens, 48k 2 × 8, end to end", m.text],
    ["cli.json", "… `run --json`", m.json],
  ] as const)
    record({ id, what, value: v, unit: "s", peer: torch, goal: "≤ 1.0× torch", met: v <= m.torch });
  return [
    `  end to end, separate processes alternating (medians of ${reps}):`,
    `    head-lens run (text report)        ${s(times.text)}   ${(m.text / m.torch).toFixed(2)}× torch`,
    `    head-lens run --json (> /dev/null) ${s(times.json)}   ${(m.json / m.torch).toFixed(2)}× torch`,
    `    python3 bench/torch_attention.py   ${s(times.torch)}   (import, load, one cold run)`,
  ];
}
