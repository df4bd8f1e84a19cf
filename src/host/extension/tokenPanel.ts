/**
 * "Which heads use this token": one panel, reused, with a table that fills as the worker streams
 * each head's figures (the token's exact key rank, importance, max QK / OV, best keys, own-output
 * rank). Cancellable from the panel and from the progress notification; the prior it was computed
 * under is shown, and a change of the prior re-runs it.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { parsePriorSpec } from "../../core/priorSpec";
import { Channel } from "../../protocol/channel";
import { TokenQuery, TokenTableApi, TokenTableHostApi } from "../../protocol/circuitViews";
import { TokenHead } from "../../protocol/engine";
import type { Services } from "./extension";
import { ModelEntry, modelName } from "./modelRegistry";
import { PanelHandlers, summary, webviewOptions } from "./panel";
import { showAndAnalyze } from "./panelHandlers";
import { readPanelSettings, strategySetting } from "./settings";
import { webviewHtml } from "./webviewHtml";
import { WebviewPort } from "./webviewPort";

export const TOKEN_VIEW_TYPE = "headLens.tokenHeads";

const BEST_KEYS = 5;

export class TokenPanel {
  private static current?: TokenPanel;
  private readonly channel: Channel<TokenTableHostApi, TokenTableApi>;
  private readonly port: WebviewPort;
  private query?: TokenQuery;
  private model?: ModelEntry;
  private rows: TokenHead[] = [];
  private fraction = 0;
  private outcome?: { cancelled: boolean; error?: string };
  private controller?: AbortController;

  private constructor(readonly panel: vscode.WebviewPanel, private readonly s: Services, handlers: PanelHandlers) {
    panel.webview.options = webviewOptions(s.context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, s.context.extensionUri, "tokens.js", ["panel.css", "circuits.css"], "Head Lens: which heads use a token");
    this.port = new WebviewPort(panel.webview);
    this.channel = new Channel<TokenTableHostApi, TokenTableApi>(this.port);
    this.channel
      .serve("ready", () => {
        this.port.opened();
        this.port.discard();
        this.replay();
      })
      .serve("openHead", (ref) => {
        if (this.model) showAndAnalyze(s, handlers, this.model, [ref]).catch((e) => s.reportError("open head", e));
      })
      .serve("cancel", () => this.controller?.abort())
      .serve("rerun", () => {
        if (this.model && this.query) void this.run(this.model, this.query.token);
      });
    panel.onDidChangeViewState(() => {
      if (!panel.visible) this.port.closed();
    });
    panel.onDidDispose(() => {
      this.controller?.abort();
      if (TokenPanel.current === this) TokenPanel.current = undefined;
    });
  }

  static show(s: Services, handlers: PanelHandlers): TokenPanel {
    if (TokenPanel.current) {
      TokenPanel.current.panel.reveal(undefined, false);
      return TokenPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(TOKEN_VIEW_TYPE, "Which heads use…", { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { retainContextWhenHidden: false });
    return (TokenPanel.current = new TokenPanel(panel, s, handlers));
  }

  static open(): TokenPanel | undefined {
    return TokenPanel.current;
  }

  /** After a change of the prior: the table is re-run so it matches the prior it names. */
  rerunIfPriorChanged(): void {
    if (this.model && this.query && this.query.priors !== readPanelSettings().priors) void this.run(this.model, this.query.token);
  }

  /** Fills the table for one token of a model (cancelling a run still going). */
  async run(model: ModelEntry, token: { id: number; token: string }): Promise<void> {
    this.controller?.abort();
    const ac = (this.controller = new AbortController());
    const c = model.config!;
    const priors = readPanelSettings().priors;
    this.model = model;
    this.query = { model: summary(model), token, priors, total: c.n_layers * c.n_heads };
    this.rows = [];
    this.fraction = 0;
    this.outcome = undefined;
    this.panel.title = `Which heads use ${token.token}?`;
    this.channel.notify("start", this.query);
    const what = `${modelName(model)}: which heads use ${token.token} (id ${token.id}) · prior ${priors}`;
    this.s.log.info(`token ${what}`);
    const t0 = Date.now();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Head Lens: which heads use ${token.token}`, cancellable: true },
      async (progress, cancel) => {
        cancel.onCancellationRequested(() => ac.abort());
        let reported = 0;
        try {
          await this.s.engine().token({ modelDir: model.dir, priors: parsePriorSpec(priors), token: { id: token.id }, n: BEST_KEYS, strategy: strategySetting() }, {
            signal: ac.signal,
            onEvent: (ev) => {
              if (ac !== this.controller) return; // a newer run replaced this one
              if (ev.type === "progress") {
                this.fraction = ev.fraction;
                const pct = Math.floor(100 * ev.fraction);
                if (pct > reported) {
                  progress.report({ increment: pct - reported, message: `${pct} %` });
                  reported = pct;
                }
                this.channel.notify("progress", { fraction: ev.fraction });
              } else {
                this.rows.push(ev.head);
                this.channel.notify("head", { head: ev.head });
              }
            },
          });
          this.s.log.info(`token ${what}: ${this.rows.length} heads in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
          this.finish(ac, { cancelled: false });
        } catch (e) {
          const cancelled = isCancelled(e) || ac.signal.aborted;
          if (cancelled) this.s.log.info(`token ${what}: cancelled after ${((Date.now() - t0) / 1000).toFixed(2)} s`);
          else this.s.reportError(`which heads use ${token.token}`, e);
          this.finish(ac, { cancelled, error: cancelled ? undefined : errorMessage(e) });
        }
      },
    );
  }

  private finish(ac: AbortController, outcome: { cancelled: boolean; error?: string }): void {
    if (ac !== this.controller) return;
    this.controller = undefined;
    this.outcome = outcome;
    this.channel.notify("finished", outcome);
  }

  /** A webview re-created after being hidden gets the whole table again. */
  private replay(): void {
    if (!this.query) return;
    this.channel.notify("start", this.query);
    for (const head of this.rows) this.channel.notify("head", { head });
    if (this.outcome) this.channel.notify("finished", this.outcome);
    else this.channel.notify("progress", { fraction: this.fraction });
  }
}
