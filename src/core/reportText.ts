/** The reference notebook's text report, reproduced character for character. */
import { HeadReport, TokenScore } from "./report";
import { headName } from "./heads";

const RULE = "=".repeat(80);
const THIN = "\u2500".repeat(80);

/** Python's f"{x:.2f}". */
export function fmt2(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return x.toFixed(2);
}

/** Python's len(): code points, not UTF-16 units. */
const pyLen = (s: string) => [...s].length;

/** The notebook's greedy wrap: items joined by spaces, a new line before exceeding 78 columns. */
export function wrapItems(items: string[]): string[] {
  const lines: string[] = [];
  let current = "";
  for (const item of items) {
    if (pyLen(current) + pyLen(item) + 2 > 78) {
      lines.push(current);
      current = item;
    } else {
      current = current ? current + " " + item : item;
    }
  }
  if (current) lines.push(current);
  return lines;
}

const chips = (xs: TokenScore[]) => wrapItems(xs.map((x) => `${x.token} (${fmt2(x.score)})`));

export function formatHeadReport(r: HeadReport): string {
  const via = r.via ? ` via ${r.via.layer}:${r.via.head} (${r.via.type})` : "";
  const out: string[] = ["", RULE, `Head ${r.layer}:${r.head}${via} (${r.model})`, RULE];
  if (r.via) out.push(PATH_MEANING[r.via.type](headName(r.via.layer, r.via.head)));
  if (r.diagonal) {
    const d = r.diagonal;
    out.push(
      `Own token as key: median rank ${d.medianRank} (0 = best); rank 0 for ${pct(d.top1)}, top 10 for ${pct(d.top10)} of all tokens`,
    );
  }
  for (const k of r.keys) {
    out.push("", THIN, `Key: ${k.token}`, THIN);
    // A k path has no OV side and a v path no QK side: their empty lists are not shown.
    if (r.via?.type !== "v") out.push("", "Queries that prefer key:", ...chips(k.queries));
    if (r.via?.type !== "k") out.push("", "Effect on logits:", ...chips(k.outputs));
  }
  return out.join("\n") + "\n";
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** What a path's keys are, in words (shown with path reports in the CLI and the panel). */
export const PATH_MEANING: Record<"k" | "q" | "v", (earlier: string) => string> = {
  k: (e) => `Keys are the tokens that ${e} moved into the key position (K-composition); queries are tokens at the query position.`,
  q: (e) => `Queries are the tokens that ${e} moved into the query position (Q-composition); keys and their logit effects are direct.`,
  v: (e) => `Sources are the tokens that ${e} moved into the attended position, read through this head's OV (V-composition).`,
};
