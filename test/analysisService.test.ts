/**
 * The extension's analysis service against the real engine worker (it imports no `vscode`; its
 * progress notification and log are handed in): one engine request per analysis, answered by the
 * worker's result cache when it can; a notification only when something is computed; heads in
 * flight joined; metrics asked once per listing of a model, a failure not asked again.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { EngineClient } from "../src/host/engineClient";
import { AnalysisService } from "../src/host/extension/analysisService";
import { ModelEntry } from "../src/host/extension/modelEntry";
import { crashableEngine, tempDir, testEngine } from "./support/engine";
import { randomWeights, writeModelDir } from "./support/models";

const engine = testEngine(256 * 1024, { cacheDir: join(tempDir(), "results") });
after(() => engine.dispose());
const settings = { nKeys: 3, nQueries: 4, nOutputs: 4, prior: "uniform" as const };

/** The service on an engine whose requests are counted by method. */
function service(): { analysis: AnalysisService; calls: Record<string, number>; notifications: string[]; log: string[]; events: string[] } {
  const calls: Record<string, number> = {};
  const counted = new Proxy(engine, {
    get(target, name: string) {
      const v = (target as unknown as Record<string, unknown>)[name];
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as EngineClient;
  const notifications: string[] = [],
    log: string[] = [],
    events: string[] = [];
  const analysis = new AnalysisService({
    engine: () => counted,
    log: { info: (m) => log.push(m), warn: (m) => log.push(m), error: (m) => log.push(m) },
    progress: (title) => (notifications.push(title), { report: () => undefined, done: () => undefined }),
    engineSettings: () => ({ strategy: "auto", epPreference: ["cpu"] }),
  });
  analysis.listen({
    pending: () => events.push("pending"),
    head: (_, h) => events.push(`head ${h.report.layer}:${h.report.head}${h.cached ? " cached" : ""}`),
    finished: () => events.push("finished"),
    settled: () => events.push(`settled, busy ${analysis.busy}`),
  });
  return { analysis, calls, notifications, log, events };
}

async function listed(dir: string): Promise<ModelEntry> {
  const d = await engine.describe(dir);
  return { id: `folder:${dir}`, dir, source: "folder", config: d.config, error: d.error };
}

test("an analysis is one engine request; asked again, the worker's cache answers it without a notification", async () => {
  const model = await listed(writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 31 })));
  const heads = [
    { layer: 1, head: 0 },
    { layer: 1, head: 1 },
  ];
  const first = service();
  const computed = await first.analysis.analyze(model, heads, settings);
  assert.deepEqual(first.calls, { analyze: 1 }, "no identify before analyze: the worker computes the identity once");
  assert.deepEqual(
    computed.map((h) => [h.report.layer, h.report.head, h.cached]),
    [
      [1, 0, false],
      [1, 1, false],
    ],
  );
  assert.equal(first.notifications.length, 1, "one progress notification for the computed heads");

  const again = service(); // a new window: nothing in the host's memory
  const cached = await again.analysis.analyze(model, [...heads, { layer: 0, head: 0 }], settings);
  assert.deepEqual(again.calls, { analyze: 1 });
  assert.deepEqual(
    cached.map((h) => [h.report.layer, h.report.head, h.cached]),
    [
      [1, 0, true],
      [1, 1, true],
      [0, 0, false],
    ],
  );
  assert.deepEqual(cached[0].report, computed[0].report, "the cached result is the computed one");
  assert.deepEqual(again.notifications, ["Head Lens: analyzing L0H0 of random-V300-L2"], "the notification names only what is computed");
  assert.ok(
    again.log.some((l) => /L1H0, L1H1: from the cache/.test(l)),
    again.log.join("\n"),
  );

  const third = service();
  await third.analysis.analyze(model, heads, settings);
  assert.deepEqual(third.notifications, [], "everything cached: no notification at all");
  const hit = await third.analysis.cached(model, settings, { layer: 0, head: 0 });
  assert.equal(hit?.report.head, 0, "cachedOnly answers from the cache");
  assert.equal(
    await third.analysis.cached(model, { ...settings, nKeys: 4 }, { layer: 0, head: 0 }),
    undefined,
    "other sizes are not cached: nothing is computed",
  );
});

test("two requests for the same head while it is computed share one engine request", async () => {
  const model = await listed(writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 32 })));
  const { analysis, calls } = service();
  const [a, b] = await Promise.all([
    analysis.analyze(model, [{ layer: 0, head: 1 }], settings),
    analysis.analyze(model, [{ layer: 0, head: 1 }], settings),
  ]);
  assert.equal(calls.analyze, 1);
  assert.equal(a[0], b[0]);
});

test("a model's metrics that failed are not asked again (a tree refresh, an edit) until the model is listed again", async () => {
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 33 }));
  const model = await listed(dir);
  rmSync(join(dir, "model.safetensors")); // broken after it was listed
  const { analysis, calls } = service();
  await assert.rejects(analysis.metrics(model), /model\.safetensors/);
  await assert.rejects(analysis.metrics(model), /model\.safetensors/);
  assert.equal(calls.metrics, 1, "the failure is remembered");
  assert.match(
    analysis.metricsFailure(model) ?? "",
    /model\.safetensors.*; run Head Lens: Refresh Models to try again$/,
    "and said where the tree shows it, with what to do",
  );
  const relisted = { ...model };
  await assert.rejects(analysis.metrics(relisted));
  assert.equal(calls.metrics, 2, "a model listed again is asked again");
});

test("metrics that failed because the engine crashed under them are asked again (once): the crash may be another request's", async () => {
  // Issue #21: a crash while a model's metrics were computed hid them for the window's life.
  const crashable = crashableEngine(256 * 1024);
  after(() => crashable.engine.dispose());
  const dir = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 20000, D: 64, H: 4, E: 16, L: 2, seed: 35 }));
  const d = await crashable.engine.describe(dir);
  const model: ModelEntry = { id: `folder:${dir}`, dir, source: "folder", config: d.config };
  const log: string[] = [];
  const analysis = new AnalysisService({
    engine: () => crashable.engine,
    log: { info: (m) => log.push(m), warn: (m) => log.push(m), error: (m) => log.push(m) },
    progress: () => ({ report: () => undefined, done: () => undefined }),
    engineSettings: () => ({ strategy: "auto", epPreference: ["cpu"] }),
  });
  const first = analysis.metrics(model);
  setTimeout(() => crashable.crash(), 20);
  await assert.rejects(first, /crashed/);
  assert.equal(analysis.metricsFailure(model), undefined, "a first crash is not the model's failure");
  const m = await analysis.metrics(model);
  assert.equal(m.heads.length, 8, "asked again, the metrics come");
  // A second crash under the same model's metrics is remembered.
  const dir2 = writeModelDir(join(tempDir(), "m"), randomWeights({ V: 20000, D: 64, H: 4, E: 16, L: 2, seed: 36 }));
  const fresh: ModelEntry = { ...model, id: `folder:${dir2}`, dir: dir2 };
  const a = analysis.metrics(fresh);
  setTimeout(() => crashable.crash(), 20);
  await assert.rejects(a, /crashed/);
  const b = analysis.metrics(fresh);
  setTimeout(() => crashable.crash(), 20);
  await assert.rejects(b, /crashed/);
  await assert.rejects(analysis.metrics(fresh), /crashed.*Refresh Models/);
});

test("metrics are one request per model for concurrent callers, and known afterwards", async () => {
  const model = await listed(writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 2, seed: 34 })));
  const { analysis, calls } = service();
  const [a, b] = await Promise.all([analysis.metrics(model), analysis.metrics(model)]);
  assert.equal(calls.metrics, 1);
  assert.equal(a, b);
  assert.equal(analysis.knownMetrics(model), a);
  assert.equal(a.heads.length, 4);
});

test("a fully cached analysis ends with the service idle: no pending heads, no notification, and its listeners told it settled", async () => {
  const model = await listed(writeModelDir(join(tempDir(), "m"), randomWeights({ V: 300, D: 16, H: 2, E: 4, L: 1, seed: 35 })));
  await service().analysis.analyze(model, [{ layer: 0, head: 0 }], settings);
  const { analysis, events, notifications } = service();
  const settled = new Promise<void>((r) => analysis.listen({ settled: r }));
  await analysis.analyze(model, [{ layer: 0, head: 0 }], settings); // resolves when the head lands
  await settled; // the request ends just after
  assert.deepEqual(events, ["head 0:0 cached", "settled, busy false"]);
  assert.deepEqual(notifications, []);
  assert.equal(analysis.busy, false);
});

test("a head that has landed is not joined to the rest of its request: asked again, it comes back at once", async () => {
  const model = await listed(writeModelDir(join(tempDir(), "m"), randomWeights({ V: 6000, D: 48, H: 6, E: 16, L: 1, seed: 36 })));
  await service().analysis.analyze(model, [{ layer: 0, head: 0 }], settings); // cached from now on
  const { analysis, calls, events } = service();
  let firstDone = false;
  let again: Promise<unknown> | undefined;
  analysis.listen({
    head: (_, h) => {
      if (h.cached && !again) again = analysis.analyze(model, [{ layer: 0, head: 0 }], settings);
    },
  });
  const first = analysis
    .analyze(
      model,
      [0, 1, 2, 3, 4, 5].map((head) => ({ layer: 0, head })),
      settings,
    )
    .then(() => (firstDone = true));
  await new Promise<void>((r) => analysis.listen({ head: () => again && r() }));
  await again;
  assert.equal(firstDone, false, "the second request did not wait for the first one's other heads");
  await first;
  assert.equal(calls.analyze, 2);
  assert.equal(events.filter((e) => e === "head 0:0 cached").length, 2, "and its listeners heard about it again");
});
