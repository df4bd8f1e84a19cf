// What keeps src/host/gpu/cudaProvider.json from being released: placeholders the release step
// (scripts/pinCudaProvider.mjs) did not replace, or a manifest for another onnxruntime than the one
// bundled. Used by `npm run package -- --release` (scripts/package.mjs), which refuses to package then.
export function releaseProblems(manifest, bundledOrtVersion) {
  const problems = [];
  if (manifest.ortVersion !== bundledOrtVersion)
    problems.push(`it is for onnxruntime ${manifest.ortVersion}, but node_modules has ${bundledOrtVersion}`);
  for (const [platform, pkg] of Object.entries(manifest.platforms ?? {})) {
    if (!/^[0-9a-f]{64}$/.test(pkg?.sha256 ?? "")) problems.push(`platforms.${platform}.sha256 is "${pkg?.sha256}", not a sha256`);
    if (!Number.isSafeInteger(pkg?.size) || pkg.size <= 0) problems.push(`platforms.${platform}.size is ${pkg?.size}, not a byte count`);
  }
  return problems;
}
