/**
 * The text live attention runs on, in editor terms: which range Show Attention takes, the panel's
 * caption for it, whether a document is small enough to follow as it is edited, and where the
 * chosen head's attention from the cursor's token is drawn.
 */
import * as vscode from "vscode";
import { headName, HeadRef } from "../../core/heads";
import { markdownText } from "../../core/markdownText";
import { cutToken } from "../../core/tokenDisplay";
import { OffsetRange, windowAround } from "../../core/textWindow";
import { PatternResult, RunInfo } from "../../protocol/attention";
import { AttentionSession } from "../../protocol/attentionPanel";
import { KeyHighlight } from "./attentionDecorations";
import { WHY_ATTEND } from "./commandIds";
import type { Settings } from "./settingValues";

/** No token is longer than this many characters in practice (GPT-2's longest are ≈ 64). */
const MAX_CHARS_PER_POSITION = 64;

export interface Source extends OffsetRange {
  uri: vscode.Uri;
  /** "selection" or "around the cursor", for the panel's caption. */
  kind: string;
}

export interface ShownRun {
  info: RunInfo;
  /** Document offset of the run's text and the document version it was read at. */
  textStart: number;
  textLength: number;
  version: number;
}

/** The panel's saved session (what a reload runs again), or null when nothing is followed. */
export function sessionOf(src: Source | undefined, modelId: string | undefined, head: HeadRef | undefined): AttentionSession | null {
  if (!src || modelId === undefined) return null;
  return { modelId, uri: src.uri.toString(), start: src.start, end: src.end, kind: src.kind, head: head ?? null };
}

/** The document's length without copying its text. */
export function docLength(doc: vscode.TextDocument): number {
  return doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end);
}

/** Show Attention's text: the selection, or the text around the cursor (at most n_ctx tokens' worth). */
export function sourceIn(editor: vscode.TextEditor, nCtx: number): Source {
  const doc = editor.document;
  const sel = editor.selection;
  let range = !sel.isEmpty
    ? { start: doc.offsetAt(sel.start), end: doc.offsetAt(sel.end), kind: "selection" }
    : { ...windowAround(doc.getText(), doc.offsetAt(sel.active), nCtx), kind: "text around the cursor" };
  // Only the last n_ctx tokens are used: a huge selection need not be tokenized whole.
  if (range.end - range.start > MAX_CHARS_PER_POSITION * nCtx)
    range = { start: range.end - MAX_CHARS_PER_POSITION * nCtx, end: range.end, kind: "end of the selection" };
  return { uri: doc.uri, ...range };
}

/** Highlights and re-runs on edits only for files small enough to re-tokenize on every edit. */
export function liveAllowed(doc: vscode.TextDocument, s: Settings["attention"]): boolean {
  return s.editorHighlights && docLength(doc) <= s.maxFileSize;
}

/** "notes.py, selection, lines 3–40", and why the editor is not followed when it is not. */
export function caption(doc: vscode.TextDocument, source: Source, s: Settings["attention"]): string {
  // A range ending at the start of a line (a selection of whole lines) ends on the line before.
  const endPos = doc.positionAt(source.end);
  const from = doc.positionAt(source.start).line + 1;
  const to = Math.max(from, endPos.line + (endPos.character === 0 && source.end > source.start ? 0 : 1));
  const name = doc.uri.path.split("/").pop();
  const why = s.editorHighlights
    ? `file over ${s.maxFileSize.toLocaleString("en-US")} characters, headLens.attention.maxFileSize`
    : "headLens.attention.editorHighlights";
  const live = liveAllowed(doc, s) ? "" : ` · editor highlights off (${why})`;
  return `${name}, ${source.kind}, line${from === to ? ` ${from}` : `s ${from}–${to}`}${live}`;
}

/** The head's attention from query position q: the query's range and label, and each key token's weight.
 * The label and hovers name the model too ("demo-attn-2l L1H0"): the editor may describe another model elsewhere. */
export function keyHighlights(
  doc: vscode.TextDocument,
  run: ShownRun,
  p: PatternResult,
  q: number,
  model: string,
): { query: vscode.Range; label: string; keys: KeyHighlight[] } {
  const tokens = run.info.tokens;
  const head = headName(p.layer, p.head);
  const range = (i: number) =>
    new vscode.Range(doc.positionAt(run.textStart + tokens[i].start), doc.positionAt(run.textStart + tokens[i].end));
  const keys: KeyHighlight[] = [];
  for (let j = 0; j <= q; j++) {
    const w = p.weights[q * p.T + j];
    if (tokens[j].end === tokens[j].start) continue; // BOS has no place in the text
    // A Markdown hover: the tokens are model text, escaped.
    const share = `${(100 * w).toFixed(1)} % of ${markdownText(tokens[q].token)}'s attention (position ${q})`;
    const why = `command:${WHY_ATTEND}?${encodeURIComponent(JSON.stringify([{ layer: p.layer, head: p.head, query: q, key: j }]))}`;
    keys.push({
      range: range(j),
      weight: w,
      hover: `**${markdownText(model)} ${head}**: ${share} goes to ${markdownText(tokens[j].token)} (position ${j}) · [Why?](${why})`,
    });
  }
  const bos = run.info.bos !== null ? ` · BOS ${p.weights[q * p.T].toFixed(2)}` : "";
  // Plain text after the query token, cut: a line of the editor, not a tooltip.
  return { query: range(q), label: `${cutToken(model)} ${head} from ${cutToken(tokens[q].token)}${bos}`, keys };
}

/** Puts the cursor on a token of the run (a click in the panel's strip or a Why's link), if the text is still as it ran. */
export function revealToken(run: ShownRun | undefined, doc: vscode.TextDocument | undefined, position: number): void {
  if (!run || !doc || doc.version !== run.version) return;
  const t = run.info.tokens[position];
  if (!t || t.end === t.start) return;
  const editor = vscode.window.visibleTextEditors.find((e) => e.document === doc);
  if (!editor) return;
  const pos = doc.positionAt(run.textStart + t.start);
  editor.selection = new vscode.Selection(pos, pos);
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
