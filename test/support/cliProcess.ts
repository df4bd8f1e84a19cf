/** The built CLI run as a child process, asynchronously: the test process keeps serving (a fake hub may live in it). */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./engine";

export const CLI = join(REPO_ROOT, "dist", "cli.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function runCliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = "",
      stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (status) => res({ status, stdout, stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}
