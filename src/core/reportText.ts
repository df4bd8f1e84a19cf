/** The reference notebook's text report, reproduced character for character. */
import { HeadReport, TokenScore } from "./report";

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
  const out: string[] = ["", RULE, `Head ${r.layer}:${r.head} (${r.model})`, RULE];
  for (const k of r.keys) {
    out.push("", THIN, `Key: ${k.token}`, THIN);
    out.push("", "Queries that prefer key:", ...chips(k.queries));
    out.push("", "Effect on logits:", ...chips(k.outputs));
  }
  return out.join("\n") + "\n";
}
