/** The HTML shell of every Head Lens webview (panel, overview, token table): a strict CSP with a
 * nonce, stylesheets from media/, one bundled script from dist/webview. */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, script: string, styles: string[], title: string): string {
  const nonce = randomBytes(16).toString("base64");
  const src = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview", script));
  const links = styles.map((s) => `<link rel="stylesheet" href="${webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", s))}">`).join("\n");
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
