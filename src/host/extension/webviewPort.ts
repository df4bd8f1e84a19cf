/**
 * The host end of a webview's Channel. VS Code drops messages posted to a page that is not
 * listening yet (just created, or re-created after being hidden), so they wait here until the page
 * says "ready"; each panel then decides whether what waited is still worth sending.
 */
import * as vscode from "vscode";
import type { Port } from "../../protocol/channel";

export class WebviewPort implements Port {
  private open = false;
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

  /** The page listens: from now on messages go straight to it. */
  opened(): void {
    this.open = true;
  }

  /** A hidden page is not retained: hold messages until the re-created one is ready. */
  closed(): void {
    this.open = false;
  }

  /** Sends what waited, in order (after any replay the panel sent first). */
  flush(): void {
    for (const m of this.waiting.splice(0)) void this.webview.postMessage(m);
  }

  /** Forgets what waited (the panel replays its current state instead). */
  discard(): void {
    this.waiting = [];
  }
}
