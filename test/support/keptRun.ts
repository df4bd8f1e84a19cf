/** Runs the model forward in process, as the worker does, and returns the id of the run it keeps (for `explain`). */
import { AttentionEvent } from "../../src/protocol/attention";
import { ModelStore } from "../../src/worker/modelStore";
import { OrtBackend } from "../../src/worker/ortBackend";
import { AttentionRuns, runText } from "../../src/worker/runText";

export async function keptRun(
  deps: { store: ModelStore; runs: AttentionRuns; backend: Promise<OrtBackend> | OrtBackend },
  modelDir: string,
  ids: number[],
): Promise<string> {
  let runId = "";
  const ctx = {
    emit: (e: AttentionEvent) => (runId = e.run.runId),
    signal: new AbortController().signal,
    throwIfCancelled: () => undefined,
  };
  const { store, runs, backend } = deps;
  await runText({ modelDir, input: { tokens: ids }, patterns: "thumbnails" }, ctx, {
    store,
    runs,
    backend: async () => backend,
    blockBytes: 1 << 22,
  });
  return runId;
}
