// Bundles the CLI, the engine worker, the checkpoint-conversion worker, the extension, and one
// script per webview page (webview/<page>/main.ts → dist/webview/<page>.js) into dist/.
import { readdirSync, rmSync } from "node:fs";
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

// Every folder of webview/ but shared/ is a page.
const pages = readdirSync("webview", { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "shared")
  .map((d) => d.name);
rmSync("dist/webview", { recursive: true, force: true }); // no bundle of a page that is gone

await Promise.all([
  build({ ...node, entryPoints: ["src/host/cli/main.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...node, entryPoints: ["src/worker/main.ts"], outfile: "dist/worker.js" }),
  build({ ...node, entryPoints: ["src/worker/convert/main.ts"], outfile: "dist/convertWorker.js" }),
  build({ ...node, entryPoints: ["src/host/extension/extension.ts"], outfile: "dist/extension.js" }),
  ...pages.map((page) =>
    build({
      entryPoints: [`webview/${page}/main.ts`],
      outfile: `dist/webview/${page}.js`,
      bundle: true,
      platform: "browser",
      format: "iife",
      target: "chrome120",
      sourcemap: false,
      minify: true,
      logLevel: "warning",
    }),
  ),
]);
