/**
 * Editor hover: the word under the cursor as the active model's tokens (ids, strings, priors) and,
 * for the head shown in the panel, what the word's first token does there — computed on demand for
 * that one token in the worker (O(V·d_head), no V² pass).
 */
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { parsePriorSpec } from "../../core/priorSpec";
import { fmt2 } from "../../core/reportText";
import { EngineClient } from "../engineClient";
import { ModelEntry, ModelRegistry, modelName } from "./modelRegistry";
import { HeadLensPanel } from "./panel";
import { hoverSettings, readPanelSettings } from "./settings";

const MAX_TOKENS = 8;

export class TokenHoverProvider implements vscode.HoverProvider {
  constructor(private readonly registry: ModelRegistry, private readonly engine: () => EngineClient, private readonly log: vscode.OutputChannel) {}

  /** The model hovers speak for: the last active panel's, else the first usable one. */
  activeModel(): ModelEntry | undefined {
    const panel = HeadLensPanel.active();
    if (panel?.model.config) return panel.model;
    return this.registry.list().find((m) => m.config);
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    if (!hoverSettings().enabled) return undefined;
    const range = doc.getWordRangeAtPosition(pos);
    const model = this.activeModel();
    if (!range || !model) return undefined;
    const word = doc.getText(range);
    // Mid-line words usually follow a space, and BPE tokens carry it: show the token the model sees.
    const before = range.start.character > 0 ? doc.getText(new vscode.Range(range.start.translate(0, -1), range.start)) : "";
    const text = before === " " ? ` ${word}` : word;
    const ac = new AbortController();
    token.onCancellationRequested(() => ac.abort());
    try {
      const focused = HeadLensPanel.forModel(model.id)?.focused;
      // The worker tokenizes, looks the prior up and computes the head's figures: it owns the model.
      const r = await this.engine().hover({ modelDir: model.dir, priors: parsePriorSpec(readPanelSettings().priors), text, maxTokens: MAX_TOKENS, head: focused, n: 5 }, ac.signal);
      const code = (t: string) => `\`${t.replace(/[`|]/g, "\\$&")}\``;
      const md = new vscode.MarkdownString(undefined, true);
      md.appendMarkdown(`**Head Lens** · ${modelName(model)} · \`${text.replace(/`/g, "'")}\` → ${r.tokens.length} token${r.tokens.length === 1 ? "" : "s"}\n\n`);
      md.appendMarkdown("| id | token | prior p |\n|---:|---|---:|\n");
      for (const t of r.tokens) md.appendMarkdown(`| ${t.id} | ${code(t.token)} | ${t.p.toExponential(2)} |\n`);
      const h = r.inHead;
      if (h && r.tokens.length) {
        const rank = h.keyRank ? ` (rank ${h.keyRank.toLocaleString("en-US")}${h.keyRankMax ? `–${h.keyRankMax.toLocaleString("en-US")}` : ""} of ${r.vocabSize.toLocaleString("en-US")})` : "";
        md.appendMarkdown(`\n**In L${h.layer}H${h.head}**, ${code(r.tokens[0].token)} as a key: importance ${h.importance.toPrecision(3)}${rank}\n\n`);
        md.appendMarkdown(`- top outputs: ${h.topOutputs.map((o) => `${code(o.token)} ${fmt2(o.score)}`).join(", ")}\n`);
        md.appendMarkdown(`- as a query it prefers keys: ${h.preferredKeys.map((k) => `${code(k.token)} ${fmt2(k.score)}`).join(", ")}\n`);
      }
      return new vscode.Hover(md, range);
    } catch (e) {
      if (!isCancelled(e)) this.log.appendLine(`[warn] hover on "${text}" (${modelName(model)}) failed: ${errorMessage(e)}`);
      return undefined;
    }
  }
}

export function hoverSelector(): vscode.DocumentSelector {
  const langs = hoverSettings().languages;
  if (!langs.length || langs.includes("*")) return [{ scheme: "file" }, { scheme: "untitled" }, { scheme: "vscode-remote" }];
  return langs.flatMap((language) => [{ language, scheme: "file" }, { language, scheme: "untitled" }]);
}
