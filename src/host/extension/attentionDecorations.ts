/**
 * Editor highlights of one head's attention from the token under the cursor: every key token gets
 * a background whose opacity follows its weight (20 steps; weight 1 is 75 % opaque so the text stays
 * readable), the query token gets a frame and, after it, the head's name and its weight on BOS
 * (which has no place in the text). Colours follow the theme kind, high contrast included. The Why
 * section's top sources of the head's logit effect are underlined, until the next Why, run or head.
 * The context key `headLens.attentionHighlights` says whether highlights are shown (Why Does the
 * Head Attend Here? is offered then).
 */
import * as vscode from "vscode";
import { WHY_ATTEND } from "./commandIds";

export const HIGHLIGHTS_CONTEXT = "headLens.attentionHighlights";

const STEPS = 20;
/** Weights below this are not drawn (a faint wash over every token says nothing). */
export const MIN_WEIGHT = 0.01;

export interface KeyHighlight {
  range: vscode.Range;
  weight: number;
  /** Markdown, model text escaped; its one command link is Why Does the Head Attend Here? */
  hover: string;
}

export interface SourceHighlight {
  range: vscode.Range;
  hover: string;
}

/** Hovers trust only the Why command's link (model text in them is escaped). */
function trusted(md: string): vscode.MarkdownString {
  const m = new vscode.MarkdownString(md);
  m.isTrusted = { enabledCommands: [WHY_ATTEND] };
  return m;
}

function palette(kind: vscode.ColorThemeKind): { rgb: string; border?: string } {
  switch (kind) {
    case vscode.ColorThemeKind.Light:
      return { rgb: "0, 95, 210" };
    case vscode.ColorThemeKind.HighContrast:
      return { rgb: "255, 196, 0", border: "rgba(255, 196, 0, 0.9)" };
    case vscode.ColorThemeKind.HighContrastLight:
      return { rgb: "0, 70, 190", border: "rgba(0, 70, 190, 0.9)" };
    default:
      return { rgb: "64, 156, 255" };
  }
}

export function stepOf(weight: number): number {
  return Math.max(1, Math.min(STEPS, Math.round(weight * STEPS)));
}

export class AttentionDecorations implements vscode.Disposable {
  private steps: vscode.TextEditorDecorationType[] = [];
  private query!: vscode.TextEditorDecorationType;
  private source!: vscode.TextEditorDecorationType;
  /** The sources each editor underlines (drawn again in a new theme's colours). */
  private sourcesIn = new Map<vscode.TextEditor, SourceHighlight[]>();
  private shown = false;
  private readonly themeListener: vscode.Disposable;
  private shownIn = new Set<vscode.TextEditor>();

  constructor() {
    this.createTypes();
    this.themeListener = vscode.window.onDidChangeActiveColorTheme(() => {
      const editors = [...this.shownIn];
      this.disposeTypes();
      this.createTypes();
      this.shownIn.clear();
      for (const e of editors) this.clear(e);
      for (const [e, sources] of this.sourcesIn) this.showSources(e, sources);
    });
  }

  private createTypes(): void {
    const { rgb, border } = palette(vscode.window.activeColorTheme.kind);
    this.steps = Array.from({ length: STEPS }, (_, i) => {
      const alpha = (0.75 * (i + 1)) / STEPS;
      return vscode.window.createTextEditorDecorationType({
        backgroundColor: `rgba(${rgb}, ${alpha.toFixed(3)})`,
        borderRadius: "2px",
        ...(border && i + 1 >= STEPS / 4 ? { outline: `1px solid ${border}` } : {}),
      });
    });
    this.query = vscode.window.createTextEditorDecorationType({
      border: "1px solid",
      borderColor: new vscode.ThemeColor("focusBorder"),
      borderRadius: "2px",
      after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 1em", fontStyle: "italic" },
    });
    // Beside the key backgrounds, not instead: a thick underline in the theme's own colour.
    this.source = vscode.window.createTextEditorDecorationType({
      borderWidth: "0 0 3px 0",
      borderStyle: "solid",
      borderColor: new vscode.ThemeColor("editorInfo.foreground"),
    });
  }

  /** Underlines the top sources of the explained head's logit effect (replacing the last ones). */
  showSources(editor: vscode.TextEditor, sources: SourceHighlight[]): void {
    editor.setDecorations(
      this.source,
      sources.map((s) => ({ range: s.range, hoverMessage: new vscode.MarkdownString(s.hover) })),
    );
    this.sourcesIn.set(editor, sources);
  }

  clearSources(): void {
    for (const e of this.sourcesIn.keys()) e.setDecorations(this.source, []);
    this.sourcesIn.clear();
  }

  /** Keeps the context key in step with whether any editor shows highlights. */
  private sayShown(): void {
    const shown = this.shownIn.size > 0;
    if (shown === this.shown) return;
    this.shown = shown;
    void vscode.commands.executeCommand("setContext", HIGHLIGHTS_CONTEXT, shown);
  }

  /** Highlights `keys` (grouped by opacity step) and frames the query token with `label` after it. */
  show(editor: vscode.TextEditor, query: vscode.Range | undefined, label: string, keys: KeyHighlight[]): void {
    const byStep: vscode.DecorationOptions[][] = Array.from({ length: STEPS }, () => []);
    for (const k of keys) {
      if (k.weight < MIN_WEIGHT) continue;
      byStep[stepOf(k.weight) - 1].push({ range: k.range, hoverMessage: trusted(k.hover) });
    }
    this.steps.forEach((t, i) => editor.setDecorations(t, byStep[i]));
    editor.setDecorations(this.query, query ? [{ range: query, renderOptions: { after: { contentText: label } } }] : []);
    this.shownIn.add(editor);
    this.sayShown();
  }

  clear(editor?: vscode.TextEditor): void {
    for (const e of editor ? [editor] : [...this.shownIn]) {
      for (const t of [...this.steps, this.query]) e.setDecorations(t, []);
      this.shownIn.delete(e);
    }
    this.sayShown();
  }

  private disposeTypes(): void {
    for (const t of [...this.steps, this.query, this.source]) t.dispose();
  }

  dispose(): void {
    this.disposeTypes();
    this.themeListener.dispose();
  }
}
