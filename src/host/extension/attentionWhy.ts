/**
 * The attention panel's Why (issue #22): asks the engine why the chosen head attends from a query
 * to a key (EngineApi `explain`, on the run the panel shows), hands the answer to the panel, and
 * underlines in the editor the tokens its logit effect at the query comes from most. One request
 * at a time: a newer Why cancels the one in flight.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { headName, HeadRef } from "../../core/heads";
import { markdownText } from "../../core/markdownText";
import { ExplainResult } from "../../protocol/explain";
import { EngineClient } from "../engineClient";
import { AttentionDecorations, SourceHighlight } from "./attentionDecorations";
import { AttentionPanel } from "./attentionPanel";
import { ShownRun } from "./attentionText";
import { tokenAt } from "../../core/tokenSpans";
import { TOP_SOURCES, topSources } from "../../core/whyParts";
import { signed } from "../../core/whyText";

/** The query position of the editor's cursor in the run's text, or why there is none. */
export function cursorQuery(
  editor: vscode.TextEditor | undefined,
  run: ShownRun | undefined,
  doc: vscode.TextDocument | undefined,
): number {
  if (!run || !editor || !doc || editor.document !== doc)
    throw new Error("no attention highlights in this editor: run Head Lens: Show Attention and choose a head first");
  const rel = doc.offsetAt(editor.selection.active) - run.textStart;
  if (doc.version !== run.version || rel < 0 || rel > run.textLength)
    throw new Error("the cursor is outside the text the attention panel ran (or the text changed since): run Show Attention again");
  return tokenAt(run.info.tokens, rel);
}

export class AttentionWhy {
  private inflight?: AbortController;

  constructor(
    private readonly engine: () => EngineClient,
    private readonly log: vscode.LogOutputChannel,
    private readonly decorations: AttentionDecorations,
  ) {}

  /**
   * Explains (query, key) of `head` on `run` into `panel` (no key: the query's strongest key other than BOS, which the
   * engine finds); `current` says whether run and head are still the ones shown.
   */
  async show(
    panel: AttentionPanel,
    run: ShownRun,
    doc: vscode.TextDocument | undefined,
    at: HeadRef & { query: number; key?: number },
    current: () => boolean,
  ): Promise<void> {
    const query = at.query,
      key = at.key === undefined ? "strongest" : Math.min(at.key, query),
      head = { layer: at.layer, head: at.head };
    panel.reveal();
    panel.post("chosen", { position: query });
    this.inflight?.abort();
    const ac = (this.inflight = new AbortController());
    let r: ExplainResult;
    try {
      r = await this.engine().explain({ runId: run.info.runId, layer: head.layer, head: head.head, query, key }, ac.signal);
    } catch (e) {
      if (isCancelled(e) || ac.signal.aborted || !current()) return;
      this.log.warn(`why ${headName(head.layer, head.head)} ${query}→${key}: ${errorMessage(e)}`);
      panel.post("whyFailed", { message: errorMessage(e), ...head, query, key });
      return;
    }
    if (ac.signal.aborted || !current()) return;
    panel.post("why", r);
    if (doc) this.markSources(run, doc, r);
  }

  /** Underlines the top sources in the editors showing the run's text (as it was run). */
  private markSources(run: ShownRun, doc: vscode.TextDocument, r: ExplainResult): void {
    this.decorations.clearSources();
    if (!r.sources) return;
    const tokens = run.info.tokens;
    const name = headName(r.layer, r.head);
    const top = topSources(r.sources, TOP_SOURCES).filter((j) => tokens[j].end > tokens[j].start);
    if (doc.version !== run.version) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== doc) continue;
      const at = (offset: number) => doc.positionAt(run.textStart + offset);
      const marks: SourceHighlight[] = top.map((j) => ({
        range: new vscode.Range(at(tokens[j].start), at(tokens[j].end)),
        hover:
          `**${name}**'s direct logit effect at ${markdownText(tokens[r.query].token)} (position ${r.query}): ` +
          `${signed(r.sources![j])} of ${signed(r.dla ?? 0)} comes from ${markdownText(tokens[j].token)} (position ${j})`,
      }));
      this.decorations.showSources(editor, marks);
    }
  }

  /** Forgets the Why (a new run, another head, Stop): its request and its underlines. */
  clear(): void {
    this.inflight?.abort();
    this.decorations.clearSources();
  }
}
