/**
 * Editor hover: the word under the cursor as the active model's tokens (ids, strings, priors) and,
 * for the head shown in the panel, what the word's first token does there — computed on demand for
 * that one token in the worker (O(V·d_head), no V² pass).
 */
import * as vscode from "vscode";
import { errorMessage } from "../../core/errors";
import { fmt2 } from "../../core/reportText";
import { EngineClient } from "../engineClient";
import { loadPrior, parsePriorSpec, Prior } from "../../worker/loaders/priors";
import { ModelEntry, ModelRegistry, modelName } from "./modelRegistry";
import { HeadLensPanel } from "./panel";
import { hoverSettings, readPanelSettings } from "./settings";

const MAX_TOKENS = 8;

export class TokenHoverProvider implements vscode.HoverProvider {
  private priors = new Map<string, Prior>();

  constructor(private readonly registry: ModelRegistry, private readonly engine: () => EngineClient, private readonly mediaDir: string, private readonly log: vscode.OutputChannel) {}

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
    try {
      const vocab = this.registry.vocabulary(model);
      const settings = readPanelSettings();
      const prior = this.prior(model, settings.priors);
      const ids = vocab.encode(text).slice(0, MAX_TOKENS);
      const md = new vscode.MarkdownString(undefined, true);
      md.appendMarkdown(`**Head Lens** · ${modelName(model)} · \`${text.replace(/`/g, "'")}\` → ${ids.length} token${ids.length === 1 ? "" : "s"}\n\n`);
      md.appendMarkdown("| id | token | prior p |\n|---:|---|---:|\n");
      for (const id of ids) md.appendMarkdown(`| ${id} | \`${vocab.display(id).replace(/[`|]/g, "\\$&")}\` | ${prior ? prior.p[id].toExponential(2) : "—"} |\n`);
      const panel = HeadLensPanel.forModel(model.id);
      const focused = panel?.focused;
      if (focused && ids.length && !token.isCancellationRequested) {
        const r = await this.engine().tokenInHead({ modelDir: model.dir, layer: focused.layer, head: focused.head, tokenId: ids[0], priors: parsePriorSpec(settings.priors), n: 5 });
        md.appendMarkdown(`\n**In head ${r.layer}:${r.head}**, \`${vocab.display(ids[0]).replace(/`/g, "'")}\` as a key: importance ${r.importance.toPrecision(3)}${r.keyRank ? ` (rank ${r.keyRank.toLocaleString("en-US")}${r.keyRankMax ? `–${r.keyRankMax.toLocaleString("en-US")}` : ""} of ${vocab.size.toLocaleString("en-US")})` : ""}\n\n`);
        md.appendMarkdown(`- top outputs: ${r.topOutputs.map((o) => `\`${o.token.replace(/`/g, "'")}\` ${fmt2(o.score)}`).join(", ")}\n`);
        md.appendMarkdown(`- as a query it prefers keys: ${r.preferredKeys.map((k) => `\`${k.token.replace(/`/g, "'")}\` ${fmt2(k.score)}`).join(", ")}\n`);
      }
      return new vscode.Hover(md, range);
    } catch (e) {
      this.log.appendLine(`hover failed: ${errorMessage(e)}`);
      return undefined;
    }
  }

  private prior(model: ModelEntry, spec: string): Prior | undefined {
    const key = `${model.id}|${spec}`;
    let p = this.priors.get(key);
    if (!p) {
      try {
        p = loadPrior(parsePriorSpec(spec), { vocab: this.registry.vocabulary(model), modelDir: model.dir, modelPriorsFile: model.config?.priors, mediaDir: this.mediaDir });
        this.priors.set(key, p);
      } catch {
        return undefined;
      }
    }
    return p;
  }
}

export function hoverSelector(): vscode.DocumentSelector {
  const langs = hoverSettings().languages;
  if (!langs.length || langs.includes("*")) return [{ scheme: "file" }, { scheme: "untitled" }, { scheme: "vscode-remote" }];
  return langs.flatMap((language) => [{ language, scheme: "file" }, { language, scheme: "untitled" }]);
}
