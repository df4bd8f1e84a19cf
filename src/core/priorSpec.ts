/** Which token prior p a request uses: "uniform", "bundled" (the model's corpus counts) or a words file. */
export type PriorSpec = "uniform" | "bundled" | { wordsFile: string };

export function parsePriorSpec(s: string): PriorSpec {
  return s === "uniform" || s === "bundled" ? s : { wordsFile: s };
}

/** The setting's string form ("uniform", "bundled" or the words file's path). */
export function priorSpecString(spec: PriorSpec): string {
  return typeof spec === "string" ? spec : spec.wordsFile;
}
