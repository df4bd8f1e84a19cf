// Preloaded with `node -r`: records, for the main thread only, whether onnxruntime-node was loaded,
// and writes the answer to $HEAD_LENS_MODULE_LOG when the process exits.
const { isMainThread } = require("node:worker_threads");
if (isMainThread && process.env.HEAD_LENS_MODULE_LOG) {
  const Module = require("node:module");
  const loaded = new Set();
  const original = Module._load;
  Module._load = function (request, ...rest) {
    if (/onnxruntime/.test(request)) loaded.add(request);
    return original.call(this, request, ...rest);
  };
  process.on("exit", () => {
    const fromCache = Object.keys(require.cache).filter((p) => /onnxruntime/.test(p));
    require("node:fs").writeFileSync(process.env.HEAD_LENS_MODULE_LOG, JSON.stringify({ requested: [...loaded], cached: fromCache }));
  });
}
