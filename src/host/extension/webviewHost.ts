/**
 * The host end of one webview page, in the vscode-hexeditor pattern on top of our typed Channel:
 * it creates (or adopts, after a window reload) the panel, gives it a strict-CSP shell, speaks the
 * page's API over a channel, and tells its owner each time the page says it is ready. VS Code drops
 * messages posted to a page that is not listening (just created, or re-created after being hidden),
 * so they wait here until then; the owner either lets them through or replays what the page shows.
 */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import type { Api, Port } from "../../protocol/channel";
import { Channel } from "../../protocol/channel";
import type { PageHostApi } from "../../protocol/page";
import type { PageSpec } from "./pages";

export interface HostOptions {
  /** The page is listening: at its first load (`first`) and each time VS Code re-created it. */
  onReady?(first: boolean): void;
  /** What happens to messages posted while the page was not listening: sent after onReady
   * ("flush"), or dropped because onReady replays the page's whole state ("discard"). */
  waiting: "flush" | "discard";
}

type Message<A extends Api> = { [M in keyof A & string]: [M, A[M]["params"]] }[keyof A & string];

export class WebviewHost<Serves extends PageHostApi, Calls extends Api> implements vscode.Disposable {
  readonly channel: Channel<Serves, Calls>;
  private readonly port: HeldPort;
  private everReady = false;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    spec: PageSpec,
    extensionUri: vscode.Uri,
    title: string,
    options: HostOptions,
  ) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, "media", "head-lens.svg");
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, "dist", "webview"), vscode.Uri.joinPath(extensionUri, "media")],
    };
    panel.webview.html = pageHtml(panel.webview, extensionUri, spec, title);
    this.port = new HeldPort(panel.webview);
    this.channel = new Channel<Serves, Calls>(this.port);
    (this.channel as unknown as Channel<PageHostApi, Api>).serve("ready", () => {
      this.port.open = true;
      options.onReady?.(!this.everReady);
      this.everReady = true;
      if (options.waiting === "flush") this.port.flush();
      else this.port.discard();
    });
    // A hidden page is not retained (unless its spec says so): messages wait for the re-created one.
    if (!spec.retainContextWhenHidden) panel.onDidChangeViewState(() => panel.visible || (this.port.open = false));
    panel.onDidDispose(() => this.channel.close(new Error(`the ${title} panel was closed`)));
  }

  /** A new panel for the page. */
  static create<S extends PageHostApi, C extends Api>(
    spec: PageSpec,
    extensionUri: vscode.Uri,
    title: string,
    show: { column: vscode.ViewColumn; preserveFocus: boolean },
    options: HostOptions,
  ): WebviewHost<S, C> {
    const panel = vscode.window.createWebviewPanel(
      spec.viewType,
      title,
      { viewColumn: show.column, preserveFocus: show.preserveFocus },
      { retainContextWhenHidden: spec.retainContextWhenHidden },
    );
    return new WebviewHost<S, C>(panel, spec, extensionUri, title, options);
  }

  /** A panel VS Code re-created after a window reload (its page starts empty). */
  static adopt<S extends PageHostApi, C extends Api>(
    panel: vscode.WebviewPanel,
    spec: PageSpec,
    extensionUri: vscode.Uri,
    title: string,
    options: HostOptions,
  ): WebviewHost<S, C> {
    panel.title = title;
    return new WebviewHost<S, C>(panel, spec, extensionUri, title, options);
  }

  /** The restored panel adopted, or a new one in the active column, focused: how a panel opens from a command or a restore. */
  static open<S extends PageHostApi, C extends Api>(
    restored: vscode.WebviewPanel | undefined,
    spec: PageSpec,
    extensionUri: vscode.Uri,
    title: string,
    options: HostOptions,
  ): WebviewHost<S, C> {
    return restored
      ? WebviewHost.adopt<S, C>(restored, spec, extensionUri, title, options)
      : WebviewHost.create<S, C>(spec, extensionUri, title, { column: vscode.ViewColumn.Active, preserveFocus: false }, options);
  }

  /** Tells the page something (held until it listens). */
  post(...[method, params]: Message<Calls>): void {
    this.channel.notify(method, params as never);
  }

  reveal(preserveFocus: boolean): void {
    this.panel.reveal(undefined, preserveFocus);
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  onDidDispose(f: () => void): vscode.Disposable {
    return this.panel.onDidDispose(f);
  }

  onDidBecomeActive(f: () => void): vscode.Disposable {
    return this.panel.onDidChangeViewState(() => this.panel.active && f());
  }

  dispose(): void {
    this.panel.dispose();
  }
}

/** The page's side of the channel: posts wait while the page is not listening. */
class HeldPort implements Port {
  open = false;
  private waiting: unknown[] = [];

  constructor(private readonly webview: vscode.Webview) {}

  post(message: unknown): void {
    if (this.open) void this.webview.postMessage(message);
    else this.waiting.push(message);
  }

  listen(handler: (message: unknown) => void): () => void {
    const d = this.webview.onDidReceiveMessage(handler);
    return () => d.dispose();
  }

  flush(): void {
    for (const m of this.waiting.splice(0)) void this.webview.postMessage(m);
  }

  discard(): void {
    this.waiting = [];
  }
}

/** The shell of every page: a strict CSP with a nonce, stylesheets from media/, one bundled script. */
function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, spec: PageSpec, title: string): string {
  const nonce = randomBytes(16).toString("base64");
  const src = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", spec.script));
  const links = spec.styles
    .map((s) => `<link rel="stylesheet" href="${webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", s))}">`)
    .join("\n");
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${links}
<title>${title.replace(/[<&>"]/g, "")}</title>
</head>
<body>
<main id="app"><p class="empty">Loading Head Lens…</p></main>
<script nonce="${nonce}" src="${src}"></script>
</body>
</html>`;
}

/**
 * Open pages of one kind by key (a model's id, or one for the kind): the one a command reuses, all
 * of them for a settings change, and the one the user last worked in.
 */
export class PageSet<P extends { host: { onDidDispose(f: () => void): unknown; onDidBecomeActive(f: () => void): unknown } }> {
  private readonly pages = new Map<string, P>();
  private last?: P;

  get(key: string): P | undefined {
    return this.pages.get(key);
  }

  all(): P[] {
    return [...this.pages.values()];
  }

  /** The page of this kind the user last worked in. */
  active(): P | undefined {
    return this.last;
  }

  add(key: string, page: P): P {
    this.pages.set(key, page);
    this.last = page;
    page.host.onDidBecomeActive(() => (this.last = page));
    page.host.onDidDispose(() => {
      if (this.pages.get(key) === page) this.pages.delete(key);
      if (this.last === page) this.last = undefined;
    });
    return page;
  }
}

/** Restores pages of one kind after a window reload; a restore that fails closes its panel (never a blank page). */
export function registerRestore<S>(
  spec: PageSpec,
  restore: (panel: vscode.WebviewPanel, state: S | undefined) => Promise<void> | void,
  onError: (e: unknown) => void,
): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(spec.viewType, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      try {
        await restore(panel, state as S | undefined);
      } catch (e) {
        panel.dispose();
        onError(e);
      }
    },
  });
}
