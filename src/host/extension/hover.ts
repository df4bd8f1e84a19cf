/**
 * Editor hover: the word under the cursor as the hover context's model's tokens (ids, strings,
 * priors) and, for the context's head, what the word's first token does there — computed on demand
 * for that one token in the worker (O(V·d_head), no V² pass). The hover names its context, which the
 * status bar shows and lets the user change (hoverContext.ts).
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { headName } from "../../core/heads";
import { markdownText } from "../../core/markdownText";
import { cutToken } from "../../core/tokenDisplay";
import { fmt2 } from "../../core/reportText";
import { EngineClient } from "../engineClient";
import { PICK_HOVER_CONTEXT, WHICH_HEADS } from "./commandIds";
import { HoverContext } from "./hoverContext";
import { modelName } from "./modelEntry";
import { readSettings } from "./settings";

const MAX_TOKENS = 8;

export class TokenHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly context: HoverContext,
    private readonly engine: () => EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const settings = readSettings();
    if (!settings.hover.enabled) return undefined;
    const range = doc.getWordRangeAtPosition(pos);
    const target = this.context.current();
    if (!range || !target) return undefined;
    const model = target.model;
    const word = doc.getText(range);
    // Mid-line words usually follow a space, and BPE tokens carry it: show the token the model sees.
    const before = range.start.character > 0 ? doc.getText(new vscode.Range(range.start.translate(0, -1), range.start)) : "";
    const text = before === " " ? ` ${word}` : word;
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    try {
      // The worker tokenizes, looks the prior up and computes the head's figures: it owns the model.
      const r = await this.engine().hover(
        { modelDir: model.dir, priors: settings.report.prior, text, maxTokens: MAX_TOKENS, head: target.head, n: 5 },
        ac.signal,
      );
      // Tokens, model names and the document's word are data: escaped (markdownText.ts), never code
      // spans (no escape works inside one). The string is trusted only for its own two commands.
      const code = markdownText,
        escaped = markdownText;
      const int = (n: number) => n.toLocaleString("en-US");
      const md = new vscode.MarkdownString(undefined, false); // no theme icons: model text in it is escaped as data (markdownText.ts)
      md.isTrusted = { enabledCommands: [PICK_HOVER_CONTEXT, WHICH_HEADS] };
      const change = `([change](command:${PICK_HOVER_CONTEXT} "Choose the model and head hovers describe"))`;
      md.appendMarkdown(`**Head Lens: ${escaped(this.context.label(target))}** ${change}\n\n`);
      md.appendMarkdown(`“${markdownText(text)}” → ${r.tokens.length} token${r.tokens.length === 1 ? "" : "s"}\n\n`);
      md.appendMarkdown("| id | token | prior p |\n|---:|---|---:|\n");
      for (const t of r.tokens) md.appendMarkdown(`| ${t.id} | ${code(t.token)} | ${t.p.toExponential(2)} |\n`);
      // Every head by this token's rank as a key: a sortable table (tokenPanel.ts).
      const which = r.tokens.map((t) => {
        const args = encodeURIComponent(JSON.stringify([{ model: model.id, id: t.id, token: t.token }]));
        return `[Which heads use ${escaped(cutToken(t.token))}?](command:${WHICH_HEADS}?${args} "Every head, by this token's rank among its keys")`;
      });
      if (which.length) md.appendMarkdown(`\n${which.join(" · ")}\n`);
      const h = r.inHead;
      if (h && r.tokens.length) {
        // The token table's key rank: 0 = the head's most important key.
        const upTo = h.keyRankMax !== undefined ? `–${int(h.keyRankMax)}` : "";
        const rank = h.keyRank === undefined ? "" : ` (key rank ${int(h.keyRank)}${upTo} of ${int(r.vocabSize)}, 0 = most important)`;
        md.appendMarkdown(
          `\n**In ${headName(h.layer, h.head)}**, ${code(r.tokens[0].token)} as a key: importance ${h.importance.toPrecision(3)}${rank}\n\n`,
        );
        md.appendMarkdown(`- top outputs: ${h.topOutputs.map((o) => `${code(o.token)} ${fmt2(o.score)}`).join(", ")}\n`);
        md.appendMarkdown(`- as a query it prefers keys: ${h.preferredKeys.map((k) => `${code(k.token)} ${fmt2(k.score)}`).join(", ")}\n`);
      }
      return new vscode.Hover(md, range);
    } catch (e) {
      if (!isCancelled(e)) this.log.warn(`hover on "${text}" (${modelName(model)}) failed: ${errorMessage(e)}`);
      return undefined;
    }
  }
}

export function hoverSelector(): vscode.DocumentSelector {
  const langs = readSettings().hover.languages;
  if (!langs.length || langs.includes("*")) return [{ scheme: "file" }, { scheme: "untitled" }, { scheme: "vscode-remote" }];
  return langs.flatMap((language) => [
    { language, scheme: "file" },
    { language, scheme: "untitled" },
  ]);
}
