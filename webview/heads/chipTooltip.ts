/** A chip's details tooltip: what each number is, with its formula, in one line each. */
import type { TokenScore } from "../../src/core/report";
import type { HeadDetails } from "../../src/protocol/headDetails";
import type { ModelSummary } from "../../src/protocol/page";
import { el } from "../shared/dom";
import { cutToken } from "../../src/core/tokenDisplay";

export interface ChipContext {
  /** "suppressed": an output among the most negative effects on logits. */
  kind: "query" | "output" | "suppressed";
  /** 1-based rank in the notebook's order (queries: QK·p^0.1; outputs: OV; suppressed: most negative OV first). */
  rank: number;
  of: number;
  /** Queries: QK[q, BOS], subtracted from QK[q, k]. Outputs: mean_o OV[k, o], subtracted from OV[k, o]. */
  baseline: number;
  key: string;
  details: HeadDetails;
  model: ModelSummary;
}

/** The score a query chip is ranked by: QK[q,k]·p(q)^0.1 (the notebook's rule). */
export function queryRankScore(x: TokenScore, details: HeadDetails): number {
  const p = details.tokens[x.id]?.p;
  return p === undefined ? NaN : x.score * Math.pow(p, 0.1);
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th")}`;
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : "—");

/** The rows of a chip's tooltip: what each number is, in one line each. */
export function chipTooltipRows(x: TokenScore, c: ChipContext): [string, string][] {
  const info = c.details.tokens[x.id];
  const rows: [string, string][] = [
    ["token", x.token],
    ["id", String(x.id)],
    ["bytes", info?.bytes === undefined ? "—" : String(info.bytes)],
    [c.kind === "query" ? "prior p(q)" : "prior p(o)", info ? info.p.toExponential(3) : "—"],
  ];
  if (c.kind === "query") {
    rows.push(
      ["QK (shown)", `${f4(x.score)} = QK[q,k] − QK[q,BOS]`],
      ["QK[q,k] raw", `${f4(x.score + c.baseline)} (before the BOS column is subtracted)`],
      ["QK[q,BOS]", f4(c.baseline)],
      ["ranking score", `${f4(queryRankScore(x, c.details))} = QK · p(q)^0.1`],
      ["rank", `${ordinal(c.rank)} of ${c.of} queries of key ${cutToken(c.key)}, by QK · p(q)^0.1`],
    );
  } else {
    rows.push(["OV (shown)", `${f4(x.score)} = OV[k,o] − mean over o of OV[k,o]`]);
    // center_unembed makes every row mean of OV zero up to rounding: say so rather than repeat the same number.
    const negligible = Math.abs(c.baseline) < 1e-6 * Math.max(1, Math.abs(x.score));
    rows.push(
      negligible
        ? ["row mean", "≈ 0 (the unembedding is centred, so removing it changes nothing)"]
        : ["OV before row-mean removal", `${f4(x.score + c.baseline)} (row mean ${f4(c.baseline)})`],
    );
    rows.push([
      "rank",
      c.kind === "suppressed"
        ? `${ordinal(c.rank)} most suppressed of key ${cutToken(c.key)}'s outputs (most negative OV first)`
        : `${ordinal(c.rank)} of ${c.of} outputs of key ${cutToken(c.key)}, by OV`,
    ]);
  }
  return rows;
}

export function chipTooltip(x: TokenScore, c: ChipContext): HTMLElement {
  const dl = document.createElement("dl");
  for (const [k, v] of chipTooltipRows(x, c)) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  }
  return dl;
}

let tip: HTMLElement | undefined;
let tipAnchor: HTMLElement | undefined;

/** Shows one tooltip, below its chip (above it near the window's bottom). */
export function showTip(anchor: HTMLElement, content: HTMLElement): void {
  hideTip();
  tip = el("div", { id: "tip", class: "tooltip", role: "tooltip" }, content);
  document.body.append(tip);
  tipAnchor = anchor;
  anchor.setAttribute("aria-describedby", "tip"); // only while the tooltip exists
  const r = anchor.getBoundingClientRect();
  const top = r.bottom + 6 + tip.offsetHeight > window.innerHeight ? r.top - tip.offsetHeight - 6 : r.bottom + 6;
  tip.style.left = `${Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4, r.left))}px`;
  tip.style.top = `${Math.max(4, top) + window.scrollY}px`;
}

export function hideTip(): void {
  tipAnchor?.removeAttribute("aria-describedby");
  tip?.remove();
  tip = tipAnchor = undefined;
}

/** A refilled section took the tooltip's chip away: the tooltip goes too (others stay while heads stream in). */
export function hideOrphanTip(): void {
  if (tipAnchor && !tipAnchor.isConnected) hideTip();
}
