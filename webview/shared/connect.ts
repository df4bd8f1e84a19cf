/** What every Head Lens webview shares: the VS Code API, its typed channel to the host, theme changes. */
import type { Api } from "../../src/protocol/channel";
import { Channel } from "../../src/protocol/channel";

interface VsCodeApi<S> {
  postMessage(msg: unknown): void;
  getState(): S | undefined;
  setState(s: S): void;
}
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export function connect<S, Serves extends Api, Calls extends Api>(): { vscode: VsCodeApi<S>; channel: Channel<Serves, Calls> } {
  const vscode = acquireVsCodeApi<S>();
  const channel = new Channel<Serves, Calls>({
    post: (m) => vscode.postMessage(m),
    listen: (h) => {
      const f = (ev: MessageEvent) => h(ev.data);
      window.addEventListener("message", f);
      return () => window.removeEventListener("message", f);
    },
  });
  return { vscode, channel };
}

/** Calls `f` when VS Code switches theme (it rewrites the root's variables and the body's class). */
export function onThemeChange(f: () => void): void {
  new MutationObserver(f).observe(document.documentElement, { attributes: true, attributeFilter: ["style", "class"] });
  new MutationObserver(f).observe(document.body, { attributes: true, attributeFilter: ["class"] });
}
