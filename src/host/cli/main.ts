/**
 * head-lens CLI: the extension's analyses, for scripts and CI.
 *   head-lens analyze …   the notebook's report for heads, or a composition path (--via)
 *   head-lens metrics …   head metrics and composition scores
 *   head-lens token …     which heads care about one token
 *   head-lens run …       the model run on a text: attention, predictions, logit attribution
 *   head-lens patch …     activation patching of every head from a clean into a corrupted text
 *   head-lens explain …   why a head attends where it does: the score and the logit effect split exactly
 */
import { errorMessage } from "../../core/errors";
import { explainCommand, EXPLAIN_USAGE } from "./explain";
import { patchCommand, PATCH_USAGE } from "./patch";
import { analyzeCommand, ANALYZE_USAGE } from "./analyze";
import { metricsCommand, METRICS_USAGE } from "./metrics";
import { UsageError } from "./options";
import { watchOutput } from "./output";
import { tokenCommand, TOKEN_USAGE } from "./token";
import { runCommand, RUN_USAGE } from "./run";
import { timelineCommand, TIMELINE_USAGE } from "./timeline";
import { exitWithParent, relaunchWithMallocTunables } from "./mallocTunables";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  analyze: { run: analyzeCommand, usage: ANALYZE_USAGE },
  metrics: { run: metricsCommand, usage: METRICS_USAGE },
  token: { run: tokenCommand, usage: TOKEN_USAGE },
  run: { run: runCommand, usage: RUN_USAGE },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE },
  patch: { run: patchCommand, usage: PATCH_USAGE },
  timeline: { run: timelineCommand, usage: TIMELINE_USAGE },
};

const USAGE = `Usage: head-lens <command> [options]

Commands:
  analyze   the report of heads: keys, the queries that prefer them, their effect on logits
  metrics   every head's traits (copying, previous-token, induction, …) and composition scores
  token     which heads care about one token
  run       the model on a text: every head's attention, next-token predictions, logit attribution
  explain   why a head attends from a query to a key: the score split into query-part × key-part terms
  patch     activation patching: each head's result from a clean run into a corrupted one
  timeline  every head's metrics across the model's training checkpoints

Run "head-lens <command> --help" for a command's options.
`;

/** A command by name: only COMMANDS' own keys ("toString" is not a command). */
function commandNamed(name: string | undefined): (typeof COMMANDS)[string] | undefined {
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const command = commandNamed(cmd);
  watchOutput(); // a reader that closes the pipe (| head) must not crash any command with EPIPE
  try {
    if (!cmd || cmd === "-h" || cmd === "--help") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (!command) throw new UsageError(`unknown command "${cmd}"; the commands are ${Object.keys(COMMANDS).join(", ")} (see --help)`);
    if (rest.includes("-h") || rest.includes("--help")) {
      process.stdout.write(command.usage);
      return 0;
    }
    return await command.run(rest);
  } catch (e) {
    process.stderr.write(`head-lens: ${errorMessage(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // Only commands that load a model are worth a second start; usage and --help answer at once.
  const heavy = commandNamed(argv[0]) !== undefined && !argv.includes("-h") && !argv.includes("--help");
  const relaunched = heavy ? relaunchWithMallocTunables(argv) : undefined;
  exitWithParent();
  void (relaunched ?? main(argv)).then((code) => (process.exitCode = code)); // main reports its own failures
}
