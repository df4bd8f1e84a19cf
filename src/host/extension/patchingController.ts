/**
 * "Compare with a Corrupted Copy…": the selection (or the text around the cursor) is the clean text; an
 * untitled copy of it opens beside, to be edited into the corrupted text. While the user edits, the
 * patching page says both token counts and the copy's editor marks the tokens that differ; whenever the
 * counts are equal the engine patches every head from the clean run into the corrupted one (debounced,
 * a superseded patch cancelled) and the page draws the grid. The clean text is read once: edits of the
 * original do not change it (run the command again).
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { HeadRef } from "../../core/heads";
import { AttentionEvent, RunToken } from "../../protocol/attention";
import { PatchingPanelApi, PatchingPanelHostApi, PatchingRow } from "../../protocol/patchingPanel";
import { PatchParams, PatchResult } from "../../protocol/whatIf";
import { caption, sourceIn } from "./attentionText";
import { LoadableModel, modelName } from "./modelEntry";
import { PAGES } from "./pages";
import { DifferingTokens } from "./patchingEditor";
import type { Services } from "./services";
import { readSettings } from "./settings";
import { WebviewHost } from "./webviewHost";

/** Patterns of texts up to this many tokens cross as exact weights; longer ones as the run's thumbnails. */
const EXACT_PATTERNS_UP_TO = 256;
/** Texts up to this long ask for exact patterns (about EXACT_PATTERNS_UP_TO tokens of English); longer ones for
 * thumbnails, so a long text's L × H × T² floats never cross (the count of tokens is not known before the run). */
const EXACT_TEXT_CHARS = 4 * EXACT_PATTERNS_UP_TO;

interface TextRun {
  tokens: RunToken[];
  /** Per layer [H, S, S] weights in [0, 1]. */
  layers: Float32Array[];
  size: number;
}

type Needs = "engine" | "log" | "reportError";

export class PatchingController implements vscode.Disposable {
  private host?: WebviewHost<PatchingPanelHostApi, PatchingPanelApi>;
  private model?: LoadableModel;
  private clean?: { text: string; source: string; run?: TextRun };
  private corrupt?: { uri: vscode.Uri; run?: TextRun };
  private texts?: PatchingPanelApi["texts"]["params"];
  private result?: PatchResult & { key: string; input: PatchParams };
  /** Per-position rows of the current result, by head ("1.0"); a row being computed is its promise. */
  private rows = new Map<string, PatchingRow | Promise<void>>();
  private inflight?: AbortController;
  private timer?: NodeJS.Timeout;
  private keys = 0;
  /** The metric's answer and wrong tokens as the user typed them ("": the engine's default). */
  private metricTokens = { answer: "", wrong: "" };
  private readonly differing = new DifferingTokens();
  private readonly listeners: vscode.Disposable[];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly s: Pick<Services, Needs>,
  ) {
    this.listeners = [vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e))];
  }

  /** Opens the corrupted copy of the editor's selection (or text around the cursor) and the patching page. */
  async start(editor: vscode.TextEditor, model: LoadableModel): Promise<void> {
    const src = sourceIn(editor, model.config.n_ctx);
    const doc = editor.document;
    const text = doc.getText(new vscode.Range(doc.positionAt(src.start), doc.positionAt(src.end)));
    if (!text.trim()) throw new Error("there is no text to compare: select the clean text first");
    this.inflight?.abort();
    this.model = model;
    this.result = this.texts = undefined;
    this.clean = { text, source: caption(doc, src, readSettings().attention).split(" · ")[0] };
    const copy = await vscode.workspace.openTextDocument({ content: text, language: doc.languageId });
    this.corrupt = { uri: copy.uri };
    // The copy first, beside the original and focused; the page beside the copy, so that both stay in view.
    await vscode.window.showTextDocument(copy, { viewColumn: vscode.ViewColumn.Beside, preview: false });
    if (this.host) this.host.reveal(true);
    else this.ensurePanel();
    await this.update();
  }

  private ensurePanel(): void {
    if (this.host) return;
    const title = "Head Lens: Patching";
    // A hidden page is not retained: the re-created one gets what the last one showed.
    const options = { waiting: "discard" as const, onReady: () => this.replay() };
    const host = WebviewHost.create<PatchingPanelHostApi, PatchingPanelApi>(
      PAGES.patching,
      this.extensionUri,
      title,
      { column: vscode.ViewColumn.Beside, preserveFocus: true },
      options,
    );
    host.channel
      .serve("chooseHead", ({ key, ...head }) => {
        if (key === this.result?.key) void this.chooseHead(head).catch((e) => this.s.reportError("show the head's patching", e));
      })
      .serve("metricTokens", ({ answer, wrong }) => {
        this.metricTokens = { answer: String(answer ?? ""), wrong: String(wrong ?? "") };
        void this.update();
      });
    host.onDidDispose(() => {
      this.host = undefined;
      this.inflight?.abort();
      this.corrupt = undefined;
      this.differing.clear();
    });
    this.host = host;
  }

  private replay(): void {
    if (this.texts) this.host?.post("texts", this.texts);
    if (this.result && this.texts?.clean.length === this.texts?.corrupt.length) this.host?.post("result", this.result);
    for (const row of this.rows.values()) if (!(row instanceof Promise)) this.host?.post("positions", row);
  }

  private corruptDoc(): vscode.TextDocument | undefined {
    const uri = this.corrupt?.uri.toString();
    return uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri) : undefined;
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    if (!this.corrupt || e.document.uri.toString() !== this.corrupt.uri.toString() || e.contentChanges.length === 0) return;
    this.differing.clear(); // stale until the corrupted text is tokenized again
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), readSettings().attention.debounceMs);
  }

  /** Tokenizes both texts (the clean one once), says the counts, marks the differing tokens, and patches when the counts are equal. */
  private async update(): Promise<void> {
    const model = this.model,
      clean = this.clean,
      doc = this.corruptDoc(),
      host = this.host;
    if (!model || !clean || !doc || !host || !this.corrupt) return;
    this.inflight?.abort();
    const ac = (this.inflight = new AbortController());
    const corruptText = doc.getText();
    try {
      clean.run ??= await this.runText(model, clean.text, ac.signal);
      const corrupt = await this.runText(model, corruptText, ac.signal);
      if (ac.signal.aborted) return;
      this.corrupt.run = corrupt;
      const cleanTokens = clean.run.tokens;
      this.texts = {
        model: modelName(model),
        cleanSource: clean.source,
        corruptSource: doc.uri.scheme === "untitled" ? `${doc.uri.path} (corrupted copy)` : doc.uri.path,
        clean: cleanTokens,
        corrupt: corrupt.tokens,
      };
      host.post("texts", this.texts);
      this.markDiffering(doc, cleanTokens, corrupt.tokens);
      if (cleanTokens.length !== corrupt.tokens.length) return;
      host.post("running", {});
      const input = this.patchParams(model, corruptText);
      const r = await this.s.engine().patch(input, ac.signal);
      if (ac.signal.aborted) return;
      this.result = { ...r, key: String(++this.keys), input };
      this.rows.clear();
      host.post("result", this.result);
      this.s.log.info(
        `patching: ${modelName(model)}, ${r.cleanTokens.length} tokens, ${r.nLayers * r.nHeads} heads in ${r.elapsedMs.toFixed(0)} ms`,
      );
    } catch (e) {
      if (isCancelled(e) || ac.signal.aborted) return;
      // The engine's words name the CLI's flags; here the page's fields say it.
      host.post("failed", { message: errorMessage(e).replace("(--wrong TOK or --wrong-id N)", "(type it in the fields above)") });
      this.s.log.warn(`patching: ${errorMessage(e)}`);
    }
  }

  private patchParams(model: LoadableModel, corruptText: string): PatchParams {
    const { answer, wrong } = this.metricTokens;
    return {
      modelDir: model.dir,
      clean: { text: this.clean!.text },
      corrupt: { text: corruptText },
      ...(answer ? { answer: { text: answer } } : {}),
      ...(wrong ? { wrong: { text: wrong } } : {}),
    };
  }

  private markDiffering(doc: vscode.TextDocument, clean: RunToken[], corrupt: RunToken[]): void {
    for (const editor of vscode.window.visibleTextEditors)
      if (editor.document.uri.toString() === doc.uri.toString()) this.differing.show(editor, clean, corrupt);
  }

  /** One run of a text: its tokens, and every head's pattern for the page's "both runs" view. */
  private async runText(model: LoadableModel, text: string, signal: AbortSignal): Promise<TextRun> {
    let event: AttentionEvent | undefined;
    await this.s
      .engine()
      // keep: false — these runs must not push the attention panel's runs out of the engine's few kept ones.
      .attention(
        { modelDir: model.dir, input: { text }, patterns: text.length <= EXACT_TEXT_CHARS ? "full" : "thumbnails", keep: false },
        { signal, onEvent: (e) => (event = e) },
      );
    if (!event) throw new Error("the engine sent no patterns");
    const p = event.patterns;
    const T = event.run.tokens.length;
    if (p.kind === "full" && T <= EXACT_PATTERNS_UP_TO) return { tokens: event.run.tokens, layers: p.layers, size: T };
    const layers = p.kind === "full" ? p.layers : p.layers.map((b) => Float32Array.from(b, (x) => x / 255));
    return { tokens: event.run.tokens, layers, size: p.kind === "full" ? T : p.size };
  }

  /** A grid cell: the head's pattern in both runs, and its per-position row (computed once per result and head). */
  private async chooseHead(head: HeadRef): Promise<void> {
    const r = this.result,
      c = this.clean?.run,
      k = this.corrupt?.run,
      host = this.host;
    if (!r || !c || !k || !host) return;
    if (c.size === k.size) {
      const n = c.size * c.size,
        at = (x: TextRun) => x.layers[head.layer].slice(head.head * n, (head.head + 1) * n);
      host.post("patterns", { ...head, key: r.key, size: c.size, clean: at(c), corrupt: at(k) });
    }
    const id = `${head.layer}.${head.head}`;
    if (this.rows.has(id)) return;
    const input = r.input; // the texts and tokens the grid was computed from, not the copy as it is now
    const T = r.cleanTokens.length;
    const from = (head.layer * r.nHeads + head.head) * T;
    const pending = this.s
      .engine()
      .patch({ ...input, positionsOf: head }, this.inflight!.signal)
      .then((p) => {
        if (this.result !== r || !p.positions) return;
        const row: PatchingRow = { key: r.key, ...head, row: p.positions.slice(from, from + T) };
        this.rows.set(id, row);
        host.post("positions", row);
      })
      .catch((e) => {
        if (this.result === r) this.rows.delete(id);
        if (!isCancelled(e)) throw e;
      });
    this.rows.set(id, pending);
    await pending;
  }

  dispose(): void {
    this.inflight?.abort();
    clearTimeout(this.timer);
    this.differing.dispose();
    for (const l of this.listeners) l.dispose();
  }
}
