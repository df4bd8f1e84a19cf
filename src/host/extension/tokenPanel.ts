/**
 * "Which heads use this token": one panel, reused, with a table that fills as the worker streams
 * each head's figures (the token's exact key rank, importance, max QK / OV, best keys, own-output
 * rank). Cancellable from the panel and from the progress notification; the prior it was computed
 * under is shown, and a change of the prior re-runs it.
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { notificationText } from "../../core/markdownText";
import { priorSpecString, samePrior } from "../../core/priorSpec";
import { cutToken } from "../../core/tokenDisplay";
import { TokenHead } from "../../protocol/engine";
import { TokenQuery, TokenTableApi, TokenTableHostApi } from "../../protocol/tokenPanel";
import { LoadableModel, modelName, modelSummary } from "./modelEntry";
import { PAGES } from "./pages";
import type { Services } from "./services";
import { readSettings } from "./settings";
import { WebviewHost } from "./webviewHost";

const BEST_KEYS = 5;

export class TokenPanel {
  private static current?: TokenPanel;
  readonly host: WebviewHost<TokenTableHostApi, TokenTableApi>;
  private query?: TokenQuery;
  private model?: LoadableModel;
  private rows: TokenHead[] = [];
  private fraction = 0;
  private outcome?: { cancelled: boolean; error?: string };
  private controller?: AbortController;

  private constructor(private readonly s: Services) {
    // A hidden page is not retained: the re-created one gets the whole table again.
    this.host = WebviewHost.create(
      PAGES.tokens,
      s.context.extensionUri,
      "Which heads use…",
      { column: vscode.ViewColumn.Active, preserveFocus: false },
      { waiting: "discard", onReady: () => this.replay() },
    );
    this.host.channel
      .serve("openHead", (ref) => {
        if (this.model) s.heads.show(this.model, [ref]).catch((e) => s.reportError("open head", e));
      })
      .serve("cancel", () => this.controller?.abort())
      .serve("rerun", () => {
        if (this.model && this.query) void this.run(this.model, this.query.token);
      });
    this.host.onDidDispose(() => {
      this.controller?.abort();
      if (TokenPanel.current === this) TokenPanel.current = undefined;
    });
  }

  static show(s: Services): TokenPanel {
    if (TokenPanel.current) {
      TokenPanel.current.host.reveal(false);
      return TokenPanel.current;
    }
    return (TokenPanel.current = new TokenPanel(s));
  }

  static open(): TokenPanel | undefined {
    return TokenPanel.current;
  }

  /** After a change of the prior: the table is re-run so it matches the prior it names. */
  rerunIfPriorChanged(): void {
    if (this.model && this.query && !samePrior(this.query.prior, readSettings().report.prior)) void this.run(this.model, this.query.token);
  }

  /** Fills the table for one token of a model (cancelling a run still going). */
  async run(model: LoadableModel, token: { id: number; token: string }): Promise<void> {
    this.controller?.abort();
    const ac = (this.controller = new AbortController());
    const settings = readSettings();
    const prior = settings.report.prior;
    this.model = model;
    this.query = { model: modelSummary(model), token, prior, total: model.config.n_layers * model.config.n_heads };
    this.rows = [];
    this.fraction = 0;
    this.outcome = undefined;
    this.host.panel.title = `Which heads use ${cutToken(token.token)}?`;
    this.host.post("start", this.query);
    const what = `${modelName(model)}: which heads use ${token.token} (id ${token.id}) · prior ${priorSpecString(prior)}`;
    this.s.log.info(`token ${what}`);
    const t0 = Date.now();
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: notificationText(`Head Lens: which heads use ${cutToken(token.token)}`),
        cancellable: true,
      },
      async (progress, cancel) => {
        cancel.onCancellationRequested(() => ac.abort());
        let reported = 0;
        try {
          await this.s.engine().token(
            { modelDir: model.dir, priors: prior, token: { id: token.id }, n: BEST_KEYS, strategy: settings.strategy },
            {
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
                  this.host.post("progress", { fraction: ev.fraction });
                } else {
                  this.rows.push(ev.head);
                  this.host.post("head", { head: ev.head });
                }
              },
            },
          );
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
    this.host.post("finished", outcome);
  }

  /** A page re-created after being hidden gets the whole table again. */
  private replay(): void {
    if (!this.query) return;
    this.host.post("start", this.query);
    for (const head of this.rows) this.host.post("head", { head });
    if (this.outcome) this.host.post("finished", this.outcome);
    else this.host.post("progress", { fraction: this.fraction });
  }
}
