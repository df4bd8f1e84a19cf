/** Chip helpers: visible whitespace, theme-aware diverging colours, the details tooltip. */
import type { TokenScore } from "../src/core/report";
import type { HeadDetails } from "../src/protocol/headDetails";
import type { ModelSummary } from "../src/protocol/webview";

export interface ChipContext {
  kind: "query" | "output";
  rank: number;
  /** The un-normalized score (QK or OV before the notebook's normalization). */
  raw: number;
  key: string;
  details: HeadDetails;
  model: ModelSummary;
}

/** Leading/trailing spaces shown as a visible mark so ' the' and 'the' differ at a glance. */
export function visibleToken(display: string): string {
  const m = /^'(.*)'$/s.exec(display);
  if (!m) return display;
  return m[1].replace(/ /g, "\u2423");
}

/** Diverging scale through theme colours: positive = charts blue, negative = charts red. */
export function scoreColor(score: number, scale: number): string {
  const t = Math.min(1, Math.abs(score) / scale);
  const pct = Math.round(12 + 58 * t);
  const base = score >= 0 ? "var(--vscode-charts-blue, #3794ff)" : "var(--vscode-charts-red, #f14c4c)";
  return `color-mix(in srgb, ${base} ${pct}%, transparent)`;
}

export function chipTooltip(x: TokenScore, c: ChipContext): HTMLElement {
  const info = c.details.tokens[x.id];
  const rows: [string, string][] = [
    ["token", x.token],
    ["id", String(x.id)],
    ["bytes", info?.bytes === undefined ? "—" : String(info.bytes)],
    ["prior p", info ? info.p.toExponential(3) : "—"],
    [c.kind === "query" ? "QK (normalized)" : "OV (normalized)", x.score.toFixed(4)],
    [c.kind === "query" ? "QK raw" : "OV raw", c.raw.toFixed(4)],
    ["rank", `${c.rank} ${c.kind === "query" ? "query for key" : "output of key"} ${c.key}`],
  ];
  const dl = document.createElement("dl");
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  return dl;
}
