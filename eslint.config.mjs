// Lint as VS Code's extension generator sets it up (typescript-eslint's recommended rules, strict
// equality, no thrown literals), plus the type-aware rules that catch promises nobody waits for and
// code nobody uses. Formatting is Prettier's (npm run format), not the linter's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "out/", "node_modules/", "test/e2e/node_modules/", "training/", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { project: ["./tsconfig.test.json", "./tsconfig.e2e.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself waits for.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "describe", "it", "suite", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-unused-expressions": ["error", { allowShortCircuit: true, allowTernary: true }],
      // Three reasons to require: onnxruntime is loaded lazily (describing a model or a hover loads no
      // native code), these packages ship CommonJS builds with ES-module declarations, and
      // d3-scale-chromatic is an ES module that CommonJS-compiled page code reaches only by require.
      "@typescript-eslint/no-require-imports": [
        "error",
        { allow: ["^onnxruntime-node$", "^js-tiktoken/", "^@huggingface/tokenizers$", "^d3-scale-chromatic$"] },
      ],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-throw-literal": "error",
    },
  },
  // The build scripts are plain JavaScript modules outside the TypeScript projects.
  {
    files: ["**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { console: "readonly", process: "readonly" } },
  },
);
