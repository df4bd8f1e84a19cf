/** Which token prior p a request uses: "uniform", "bundled" (the model's corpus counts) or a words file. */
export type PriorSpec = "uniform" | "bundled" | { wordsFile: string };

/** The `headLens.priors` setting's (and the CLI's `--priors`) string form, parsed once where it is read. */
export function parsePriorSpec(s: string): PriorSpec {
  return s === "uniform" || s === "bundled" ? s : { wordsFile: s };
}

/** The setting's string form ("uniform", "bundled" or the words file's path). */
export function priorSpecString(spec: PriorSpec): string {
  return typeof spec === "string" ? spec : spec.wordsFile;
}

export function samePrior(a: PriorSpec, b: PriorSpec): boolean {
  return priorSpecString(a) === priorSpecString(b);
}

/** How panels name a prior: "bundled corpus", "uniform" or "words file: words.txt". */
export function priorLabel(spec: PriorSpec): string {
  return spec === "bundled" ? "bundled corpus" : spec === "uniform" ? "uniform" : `words file: ${fileName(spec.wordsFile)}`;
}

/** A path's last part (either separator: the path may come from another OS's settings). */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
