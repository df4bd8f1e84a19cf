// Bundles the CLI, the engine worker and the extension into dist/ with esbuild.
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  external: ["onnxruntime-node", "vscode"],
  logLevel: "warning",
};

await Promise.all([
  build({ ...common, entryPoints: ["src/cli.ts"], outfile: "dist/cli.js", banner: { js: "#!/usr/bin/env node" } }),
  build({ ...common, entryPoints: ["src/engine/worker.ts"], outfile: "dist/worker.js" }),
]);
