// Bundles the CLI, the engine worker, the checkpoint-conversion worker, the extension and the webview scripts (heads panel, attention panel) into dist/.
import { build } from "esbuild";

const node = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  external: ["onnxruntime-node", "vscode"],
  logLevel: "warning",
};

await Promise.all([
  build({ ...node, entryPoints: ["src/host/cli/main.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...node, entryPoints: ["src/worker/main.ts"], outfile: "dist/worker.js" }),
  build({ ...node, entryPoints: ["src/worker/convert/main.ts"], outfile: "dist/convertWorker.js" }),
  build({ ...node, entryPoints: ["src/host/extension/extension.ts"], outfile: "dist/extension.js" }),
  build({
    entryPoints: ["webview/main.ts"], outfile: "dist/webview/main.js", bundle: true, platform: "browser",
    format: "iife", target: "chrome120", sourcemap: false, minify: true, logLevel: "warning",
  }),
  // The model overview and the "which heads use a token" table (issue #12).
  ...["overview", "tokens"].map((name) => build({
    entryPoints: [`webview/${name}.ts`], outfile: `dist/webview/${name}.js`, bundle: true, platform: "browser",
    format: "iife", target: "chrome120", sourcemap: false, minify: true, logLevel: "warning",
  })),
  build({
    entryPoints: ["webview/attention/main.ts"], outfile: "dist/webview/attention.js", bundle: true, platform: "browser",
    format: "iife", target: "chrome120", sourcemap: false, minify: true, logLevel: "warning",
  }),
]);
