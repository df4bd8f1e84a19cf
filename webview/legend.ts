/** The panel's legend: one compact, collapsible explanation of every figure and of the colours. */
import { el } from "./dom";
import { Palette, scaleGradient } from "./colors";

/** One-line formulas, shared by the legend and the figures' tooltips. */
export const FORMULAS = {
  importance: "importance = max QK · max OV · p(key)^0.1",
  maxQK: "max QK = max over queries q of QK[q,k] − QK[q,BOS], with QK = W_E W_Q W_Kᵀ W_Eᵀ",
  maxOV: "max OV = max over outputs o of OV[k,o], where OV = W_E W_V W_O W_U minus its row mean",
  queries: "ranked by QK[q,k] · p(q)^0.1 (the notebook's rule); each chip shows QK[q,k]",
  outputs: "ranked by OV[k,o]; each chip shows OV[k,o], what attending to the key adds to output o's logit",
  prior: "p = the token's unigram probability under the chosen prior",
} as const;

export function legend(open: boolean, palette: Palette, onToggle: (open: boolean) => void): HTMLElement {
  const row = (term: string, ...def: (Node | string)[]) => [el("dt", {}, term), el("dd", {}, ...def)];
  const code = (t: string) => el("code", {}, t);
  const swatch = el("span", { class: "swatch", role: "img", "aria-label": "Colour scale: red for negative scores, blue for positive, stronger with the size of the score" });
  swatch.style.setProperty("background", scaleGradient(palette)); // CSSOM: the CSP forbids style attributes
  const details = el("details", { class: "legend", id: "legend" },
    el("summary", {}, "Legend: what the figures and colours mean"),
    el("dl", {},
      ...row("importance", code("max QK · max OV · p(key)^0.1"), ": how much the head can move attention to this key and what it then writes. Keys are sorted by it."),
      ...row("max QK", code("max_q QK[q,k]"), ", with ", code("QK = W_E W_Q W_Kᵀ W_Eᵀ"), " and the BOS key's score subtracted per query: ", code("QK[q,k] − QK[q,BOS]"), "."),
      ...row("max OV", code("max_o OV[k,o]"), ", with ", code("OV = W_E W_V W_O W_U"), " minus each row's mean."),
      ...row("Queries that prefer key", "the top queries by ", code("QK[q,k] · p(q)^0.1"), " (the notebook's rule, which favours common queries); each chip shows ", code("QK[q,k]"), ", so the shown numbers need not descend. “Queries sorted by” above switches to the shown score."),
      ...row("Effect on logits", "the top outputs by ", code("OV[k,o]"), ": what attending to the key adds to each output token's logit."),
      ...row("prior p", "a token's unigram probability under the prior chosen above (the source is named under each head)."),
      ...row("colour", swatch, " red: negative, blue: positive; stronger for a larger |score| relative to the head's largest."),
      ...row("tokens", code("␣"), " is a space, ", code("\\n"), " a newline; other escapes as Python's repr. Hover or focus a chip for its details; click to pin it everywhere."),
    ),
  );
  if (open) details.setAttribute("open", "");
  details.addEventListener("toggle", () => onToggle(details.open));
  return details;
}
