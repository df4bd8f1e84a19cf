/**
 * Live attention in the editor: runs the active model on the selection (or the text around the
 * cursor), shows the run in the attention panel, and — with a head chosen — highlights in the editor
 * what that head attends to from the token under the cursor. Edits re-run the model (debounced,
 * superseded runs cancelled); files over `headLens.attention.maxFileSize` characters get the panel
 * but no live highlights or re-runs.
 *
 * The editor's context (hoverContext.ts) follows what the user does here, and this follows it back: a
 * head of the panel's model chosen elsewhere is enlarged here; while the context is another model the
 * editor shows none of this one's highlights. Ablations: attentionAblation.ts (the run is compared with its baseline).
 */
import * as vscode from "vscode";
import { errorCode, errorMessage, isCancelled } from "../../core/errors";
import { headName, HeadRef } from "../../core/heads";
import { OffsetRange, rangeAfterEdit } from "../../core/textWindow";
import { tokenAt } from "../../core/tokenSpans";
import { PatternResult } from "../../protocol/attention";
import { AttentionSession } from "../../protocol/attentionPanel";
import { CHOOSE_ATTENTION_MODEL } from "./commandIds";
import { AttentionAblation, validAblations } from "./attentionAblation";
import { AttentionDecorations } from "./attentionDecorations";
import { caption, docLength, keyHighlights, liveAllowed, revealToken, sessionOf, ShownRun, Source, sourceIn } from "./attentionText";
import { AttentionPanel } from "./attentionPanel";
import { AttentionWhy, cursorQuery } from "./attentionWhy";
import { isLoadable, LoadableModel, modelName } from "./modelEntry";
import type { Services } from "./services";
import { affects, readSettings } from "./settings";

const attentionSettings = () => readSettings().attention;
type Needs = "engine" | "log" | "reportError" | "analysis" | "registry" | "hoverContext" | "engineStatus" | "heads";

export class AttentionController implements vscode.Disposable {
  private panel?: AttentionPanel;
  private model?: LoadableModel;
  private source?: Source;
  private run?: ShownRun;
  private head?: HeadRef;
  private pattern?: PatternResult;
  /** The query position the panel was last told about (the cursor moves within a token often). */
  private shownPosition?: number;
  private inflight?: AbortController;
  private timer?: NodeJS.Timeout;
  /** Bumped by every user action on what runs (show, switch, stop): a restore still waiting yields to it. */
  private generation = 0;
  private readonly decorations = new AttentionDecorations();
  readonly ablation: AttentionAblation;
  private readonly whys: AttentionWhy;
  private readonly listeners: vscode.Disposable[];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly s: Pick<Services, Needs>,
  ) {
    this.whys = new AttentionWhy(s.engine, s.log, this.decorations);
    this.ablation = new AttentionAblation(s);
    this.listeners = [
      vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.onCursor(e)),
      vscode.workspace.onDidChangeConfiguration((e) => affects(e, "attention") && this.refreshHighlights()),
      // The decorations re-create their colours for the new theme (their listener runs first): redraw.
      vscode.window.onDidChangeActiveColorTheme(() => this.refreshHighlights()),
      s.hoverContext.onDidChange(() => this.followContext()),
    ];
  }

  /** Whether a text is being followed (a run to re-run under another model). */
  get following(): boolean {
    return this.panel !== undefined && this.source !== undefined;
  }

  /** The same text under another model (Choose Attention Model): its heads are other heads, so none stays chosen. */
  async switchModel(model: LoadableModel): Promise<void> {
    if (!this.source || model.id === this.model?.id) return;
    if (!this.document()) throw new Error("the text the panel ran is no longer open: select text and run Show Attention");
    this.generation++;
    this.head = undefined;
    this.pattern = undefined;
    this.run = undefined; // the old model's run: its heads are not this model's
    this.decorations.clear();
    this.panel?.post("chosen", { head: null });
    this.model = model;
    this.remember();
    this.s.hoverContext.set(model);
    this.panel?.reveal();
    await this.runNow(true);
  }

  /** The model the panel shows, if any (Show Attention keeps using it). */
  get currentModel(): LoadableModel | undefined {
    return this.panel ? this.model : undefined;
  }

  /** Show Attention: the selection, or the text around the cursor, under `model`. */
  async show(editor: vscode.TextEditor, model: LoadableModel): Promise<void> {
    const source = sourceIn(editor, model.config.n_ctx);
    const panel = this.ensurePanel();
    if (this.model?.id !== model.id) {
      this.head = undefined; // another model's heads are other heads
      this.pattern = undefined;
      this.run = undefined;
      panel.post("chosen", { head: null });
    }
    this.generation++;
    this.model = model;
    this.source = source;
    // The head the editor describes, if it is this model's, is the one enlarged (one head everywhere).
    const ctx = this.s.hoverContext.current();
    if (!this.head && ctx?.model.id === model.id && ctx.head) {
      this.head = ctx.head;
      panel.post("chosen", { head: this.head });
    }
    this.s.hoverContext.set(model, this.head);
    this.remember();
    panel.reveal();
    await this.runNow(true);
  }

  /**
   * A window reload re-created the panel: run its saved session again on the file's text as it is
   * now (opened if no editor has it; offsets past its end are cut), with the same head enlarged.
   */
  async restore(webviewPanel: vscode.WebviewPanel, session: AttentionSession | null | undefined): Promise<void> {
    this.panel?.host.dispose();
    const panel = this.ensurePanel(webviewPanel);
    if (!session) return;
    // Show Attention, Stop or closing the panel while this waits wins over the saved session.
    const gen = ++this.generation;
    const superseded = () => this.panel !== panel || this.generation !== gen;
    await this.s.registry.ready;
    if (superseded()) return;
    const model = this.s.registry.get(session.modelId);
    if (!isLoadable(model)) {
      panel.post("failed", {
        message: `the model it ran (${session.modelId}) is no longer listed or cannot be loaded. Select text and run Head Lens: Show Attention again.`,
      });
      return;
    }
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(session.uri));
    } catch (e) {
      if (!superseded())
        panel.post("failed", {
          message: `${session.uri} cannot be opened (${errorMessage(e)}). Select text and run Head Lens: Show Attention again.`,
        });
      return;
    }
    if (superseded()) return;
    const length = docLength(doc);
    this.model = model;
    this.source = { uri: doc.uri, start: Math.min(session.start, length), end: Math.min(session.end, length), kind: session.kind };
    this.head = session.head ?? undefined;
    if (this.head) panel.post("chosen", { head: this.head });
    this.remember();
    await this.runNow(false);
  }

  /** A head chosen in the panel or by command: enlarge it and highlight its attention in the editor. */
  async chooseHead(head: HeadRef): Promise<void> {
    // The enlarged head chosen again: the editor's context comes back to it; its pattern and Why stay.
    if (head.layer === this.head?.layer && head.head === this.head.head && this.pattern)
      return void (this.model && this.s.hoverContext.set(this.model, this.head));
    this.head = head;
    // Before the context moves: its listeners redraw the highlights, which must not be the last head's.
    this.pattern = undefined;
    this.decorations.clear();
    this.whys.clear();
    if (this.model) this.s.hoverContext.set(this.model, head);
    this.panel?.post("chosen", { head });
    this.remember();
    await this.fetchPattern();
  }

  /** The panel's Why of head `at` from its query to its key (no key: the query's strongest non-BOS key); another head is chosen first. */
  async why(at: HeadRef & { query: number; key?: number }): Promise<void> {
    if (this.ablation.for(this.model?.id).length)
      throw new Error("Why explains the model as it is: restore the model (the status bar's Ablated: … item) to ask it");
    if (at.layer !== this.head?.layer || at.head !== this.head?.head) await this.chooseHead({ layer: at.layer, head: at.head });
    const run = this.run,
      head = this.head,
      panel = this.panel;
    if (!run || !head || !panel || at.query >= run.info.tokens.length) return;
    const current = () => this.run === run && this.head === head;
    await this.whys.show(panel, run, this.document(), { ...head, query: at.query, key: at.key }, current);
  }

  /** Why Does the Head Attend Here?: the Why of the cursor's token, as the editor highlights it. */
  async whyAtCursor(): Promise<void> {
    if (!this.head) throw new Error("no attention highlights here: run Head Lens: Show Attention and choose a head first");
    await this.why({ ...this.head, query: cursorQuery(vscode.window.activeTextEditor, this.run, this.document()) });
  }

  /** The panel's toggles, or Restore Model ([]): the same text runs again under these ablations of the panel's model. */
  async ablate(list: unknown): Promise<void> {
    const m = this.model;
    this.ablation.set(m?.id, m ? validAblations(list, m.config.n_layers, m.config.n_heads) : [], this.panel);
    if (this.source) await this.runNow(true);
  }

  /** Stops following the editor until the next Show Attention (a reload then has nothing to run again). */
  stop(): void {
    this.generation++;
    const following = this.source !== undefined;
    this.halt();
    if (following) this.panel?.post("stopped", {});
    this.remember();
  }

  /** Cancels the run in flight and a pending re-run, forgets the text, clears the highlights. */
  private halt(): void {
    this.inflight?.abort();
    clearTimeout(this.timer);
    this.source = undefined;
    this.clearHighlights();
  }

  /** The key highlights and the Why's source underlines (and its request in flight). */
  private clearHighlights(): void {
    this.decorations.clear();
    this.whys.clear();
  }

  /** Hands the panel what a reload needs to run it again (kept in its saved state). */
  private remember(): void {
    this.panel?.post("session", sessionOf(this.source, this.model?.id, this.head));
  }

  private ensurePanel(restored?: vscode.WebviewPanel): AttentionPanel {
    if (this.panel) return this.panel;
    const p = new AttentionPanel(this.extensionUri, restored);
    this.shownPosition = undefined;
    p.host.channel
      .serve("chooseHead", ({ layer, head, runId }) => {
        if (runId === this.run?.info.runId) void this.chooseHead({ layer, head });
      })
      .serve("choosePosition", ({ runId, position }) => {
        if (runId === this.run?.info.runId) revealToken(this.run, this.document(), position);
      })
      .serve("why", ({ runId, ...at }) => {
        if (runId === this.run?.info.runId) void this.why(at);
      })
      .serve("openPath", ({ via, ...head }) => {
        if (this.model) this.s.heads.show(this.model, [head], via).catch((e) => this.s.reportError("open path", e));
      })
      .serve("chooseModel", () => void vscode.commands.executeCommand(CHOOSE_ATTENTION_MODEL))
      .serve("ablate", ({ ablations }) => void this.ablate(ablations).catch((e) => this.s.reportError("ablate", e)))
      .serve("restoreModel", () => void this.ablate([]).catch((e) => this.s.reportError("restore the model", e)));
    p.host.onDidDispose(() => {
      this.panel = undefined;
      this.stop();
      this.ablation.set(undefined, [], undefined); // a new panel starts on the model as it is
    });
    this.ablation.say(p);
    return (this.panel = p);
  }

  private document(): vscode.TextDocument | undefined {
    return this.source && vscode.workspace.textDocuments.find((d) => d.uri.toString() === this.source!.uri.toString());
  }

  private liveAllowed(doc: vscode.TextDocument): boolean {
    return liveAllowed(doc, attentionSettings());
  }

  /** Runs the model on the source's current text; `explicit` runs report failures as notifications. */
  private async runNow(explicit: boolean): Promise<void> {
    const doc = this.document();
    const model = this.model;
    if (!doc || !model || !this.source) return;
    this.inflight?.abort();
    const ac = (this.inflight = new AbortController());
    const { start, end } = this.source;
    const text = doc.getText(new vscode.Range(doc.positionAt(start), doc.positionAt(end)));
    const version = doc.version;
    const source = caption(doc, this.source, attentionSettings());
    this.panel?.post("running", { source });
    this.ablation.say(this.panel, model.id);
    const params = { modelDir: model.dir, input: { text }, patterns: "thumbnails" as const, ablations: this.ablation.for(model.id) };
    try {
      const result = await this.s.engine().attention(params, {
        signal: ac.signal,
        onEvent: (e) => {
          if (ac.signal.aborted) return;
          this.run = { info: e.run, textStart: start, textLength: text.length, version };
          this.pattern = undefined;
          this.whys.clear();
          this.shownPosition = undefined; // the page keeps a position only while the new run has it
          this.panel?.post("run", { ...e.run, patterns: e.patterns, textScores: e.textScores, source, elapsedMs: e.elapsedMs });
          void this.fetchPattern();
          this.panel?.showMetrics(this.s.analysis, model, e.run.identity);
        },
      });
      if (ac.signal.aborted || this.run?.info.runId !== result.runId) return;
      this.s.engineStatus.attentionRan(model, result.tokens.length, result.ep, result.timings.totalMs);
      this.panel?.post("predictions", {
        runId: result.runId,
        top: result.top,
        next: result.next,
        dla: result.dla,
        timings: result.timings,
        ep: result.ep,
      });
      if (this.panel) await this.ablation.compare(this.panel, params, result, ac.signal, () => this.head);
      this.s.log.info(
        `attention: ${modelName(model)}, ${result.tokens.length} tokens: ` +
          `patterns ${result.timings.patternsMs.toFixed(0)} ms, all ${result.timings.totalMs.toFixed(0)} ms (${result.ep})`,
      );
    } catch (e) {
      if (isCancelled(e) || ac.signal.aborted) return;
      this.panel?.post("failed", { message: errorMessage(e) });
      if (explicit) this.s.reportError("show attention", e);
      else this.s.log.warn(`attention re-run after an edit failed: ${errorMessage(e)}`);
    }
  }

  private async fetchPattern(): Promise<void> {
    const run = this.run,
      head = this.head;
    if (!run || !head) return;
    try {
      const p = await this.s.engine().attentionPattern({ runId: run.info.runId, layer: head.layer, head: head.head });
      if (this.run !== run || this.head !== head) return;
      this.pattern = p;
      this.panel?.post("pattern", p);
      this.refreshHighlights();
      if (this.panel) await this.ablation.pattern(this.panel, run.info.runId, head);
    } catch (e) {
      // Other runs (patching's) pushed this one out of the engine's kept runs: run the text again (a new run, a new id).
      if (errorCode(e) === "request.staleRun" && this.run === run) return void this.runNow(false);
      if (!isCancelled(e)) this.s.log.warn(`attention pattern of ${headName(head.layer, head.head)}: ${errorMessage(e)}`);
    }
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!this.source || e.document.uri.toString() !== this.source.uri.toString() || e.contentChanges.length === 0) return;
    // Changes in one event refer to the document before the event, later ones first in the list.
    let r: OffsetRange = this.source;
    for (const c of [...e.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset))
      r = rangeAfterEdit(r, c.rangeOffset, c.rangeLength, c.text.length);
    this.source = { ...this.source, ...r };
    this.remember();
    this.clearHighlights(); // stale until the re-run
    if (!this.liveAllowed(e.document)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runNow(false), attentionSettings().debounceMs);
  }

  private onCursor(editor: vscode.TextEditor): void {
    if (!this.source || editor.document.uri.toString() !== this.source.uri.toString()) return;
    this.highlight(editor);
  }

  private refreshHighlights(): void {
    const uri = this.source?.uri.toString();
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === uri) this.highlight(e);
  }

  private highlight(editor: vscode.TextEditor): void {
    const run = this.run,
      p = this.pattern,
      doc = editor.document;
    const current = run && doc.version === run.version;
    const rel = current ? doc.offsetAt(editor.selection.active) - run.textStart : -1;
    const tokens = run?.info.tokens ?? [];
    const q = !current || rel < 0 || rel > run.textLength ? -1 : tokenAt(tokens, rel);
    if (q >= 0 && q !== this.shownPosition) {
      this.shownPosition = q; // moves inside one token tell the panel nothing new
      this.panel?.post("chosen", { position: q });
    }
    const shown = p && p.runId === run?.info.runId && p.layer === this.head?.layer && p.head === this.head?.head;
    if (!run || !p || !shown || q < 0 || !this.liveAllowed(doc) || !this.s.hoverContext.is(this.model?.id, this.head)) {
      this.decorations.clear(editor);
      return;
    }
    const h = keyHighlights(doc, run, p, q, modelName(this.model!));
    this.decorations.show(editor, h.query, h.label + this.ablation.suffix(this.model?.id), h.keys);
  }

  /** The editor's context changed elsewhere: enlarge its head if it is this model's, else hide the highlights. */
  private followContext(): void {
    const ctx = this.s.hoverContext.current();
    if (!this.panel || !this.model || !ctx) return;
    // Another model, or this model with no head picked: the editor describes nothing of this panel's.
    if (ctx.model.id !== this.model.id || !ctx.head) this.clearHighlights();
    else if (ctx.head && (ctx.head.layer !== this.head?.layer || ctx.head.head !== this.head?.head)) void this.chooseHead(ctx.head);
    else this.refreshHighlights();
  }

  dispose(): void {
    // Not stop(), and the panel stays: at a window reload it keeps its saved session to be restored.
    this.halt();
    this.decorations.dispose();
    this.ablation.dispose();
    for (const l of this.listeners) l.dispose();
  }
}
