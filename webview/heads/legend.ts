/** The panel's legend: one compact, collapsible explanation of every figure and of the colours. */
import { el } from "../shared/dom";
import { Palette, scaleGradient } from "../shared/colors";

/** One-line formulas, shared by the legend and the figures' tooltips. */
export const FORMULAS = {
  importance: "importance = max QK · max OV · p(key)^0.1",
  maxQK: "max QK = max over queries q of QK[q,k] − QK[q,BOS], with QK = W_E W_Q W_Kᵀ W_Eᵀ",
  maxOV: "max OV = max over outputs o of OV[k,o], where OV = W_E W_V W_O W_U minus its row mean",
  queries: "ranked by QK[q,k] · p(q)^0.1 (the notebook's rule); each chip shows QK[q,k]",
  outputs: "ranked by OV[k,o]; each chip shows OV[k,o], what attending to the key adds to output o's logit",
  prior: "p = the token's unigram probability under the chosen prior",
  selfOutputRank:
    "own-output rank = #{o : OV[k,o] > OV[k,k]}: where the key's own token ranks among its outputs (0 = it raises its own logit most: copying)",
  suppressed: "the outputs with the most negative OV[k,o]: the logits attending to the key lowers most",
} as const;

/** The figures of a path through an earlier head E (OV2 = W_V W_O of E; README "Composition paths"). */
export const PATH_FORMULAS = {
  k: {
    importance: "importance = max QK · p(key)^0.1 (a k path has no OV side)",
    maxQK: "max QK = max over queries q of QK[q,p] − QK[q,BOS], with QK = (W_E W_Q)(W_E OV2 W_K)ᵀ",
    maxOV: "",
  },
  q: {
    importance: "importance = max QK · max OV · p(key)^0.1",
    maxQK: "max QK = max over moved tokens s of QK[s,k] − QK[s,BOS], with QK = (W_E OV2 W_Q)(W_E W_K)ᵀ",
    maxOV: FORMULAS.maxOV,
  },
  v: {
    importance: "importance = max OV · p(source)^0.1 (a v path has no QK side)",
    maxQK: "",
    maxOV: "max OV = max over outputs o of OV[s,o], with OV = W_E OV2 W_V W_O W_U minus its row mean",
  },
} as const;

export function legend(open: boolean, palette: Palette, onToggle: (open: boolean) => void): HTMLElement {
  const row = (term: string, ...def: (Node | string)[]) => [el("dt", {}, term), el("dd", {}, ...def)];
  const code = (t: string) => el("code", {}, t);
  const swatch = el("span", {
    class: "swatch",
    role: "img",
    "aria-label": "Colour scale: red for negative scores, blue for positive, stronger with the size of the score",
  });
  paintSwatch(swatch, palette);
  const details = el(
    "details",
    { class: "legend", id: "legend" },
    el("summary", {}, "Legend: what the figures and colours mean"),
    el(
      "dl",
      {},
      ...row(
        "importance",
        code("max QK · max OV · p(key)^0.1"),
        ": how much the head can move attention to this key and what it then writes. Keys are sorted by it.",
      ),
      ...row(
        "max QK",
        code("max_q QK[q,k]"),
        ", with ",
        code("QK = W_E W_Q W_Kᵀ W_Eᵀ"),
        " and the BOS key's score subtracted per query: ",
        code("QK[q,k] − QK[q,BOS]"),
        ".",
      ),
      ...row("max OV", code("max_o OV[k,o]"), ", with ", code("OV = W_E W_V W_O W_U"), " minus each row's mean."),
      ...row(
        "Queries that prefer key",
        "the top queries by ",
        code("QK[q,k] · p(q)^0.1"),
        " (the notebook's rule, which favours common queries); each chip shows ",
        code("QK[q,k]"),
        ", so the shown numbers need not descend. “Queries sorted by” above switches to the shown score.",
      ),
      ...row("Effect on logits", "the top outputs by ", code("OV[k,o]"), ": what attending to the key adds to each output token's logit."),
      ...row("Suppressed", "the outputs with the most negative ", code("OV[k,o]"), ": the logits attending to the key lowers most."),
      ...row(
        "own-output rank",
        "where the key's own token ranks among its outputs: 0 means the head copies it (raises its own logit most).",
      ),
      ...row("= on a chip", "the chip is the key's own token: a query equal to the key, or an output equal to it (copying)."),
      ...row(
        "Path",
        "a head in a later layer reads what earlier heads wrote: “Direct” is its own circuit from the embeddings; " +
          "“via L0H3 · K” is its circuit through L0H3's output on the key side (Q: the query side, V: the value side), " +
          "strongest composition first. The Model Overview shows every pair.",
      ),
      ...row("prior p", "a token's unigram probability under the prior chosen above (the source is named under each head)."),
      ...row("colour", swatch, " red: negative, blue: positive; stronger for a larger |score| relative to the head's largest."),
      ...row(
        "tokens",
        code("␣"),
        " is a space, ",
        code("\\n"),
        " a newline; other escapes as Python's repr. Hover or focus a chip for its details; click to pin it everywhere.",
      ),
    ),
  );
  if (open) details.setAttribute("open", "");
  details.addEventListener("toggle", () => onToggle(details.open));
  return details;
}

/** The legend's colour scale (CSSOM: the CSP forbids style attributes); again on a theme change. */
export function paintSwatch(swatch: HTMLElement, palette: Palette): void {
  swatch.style.setProperty("background", scaleGradient(palette));
}
