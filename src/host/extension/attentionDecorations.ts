/**
 * Editor highlights of one head's attention from the token under the cursor: every key token gets
 * a background whose opacity follows its weight (20 steps; weight 1 is 75 % opaque so the text stays
 * readable), the query token gets a frame and, after it, the head's name and its weight on BOS
 * (which has no place in the text). Colours follow the theme kind, high contrast included.
 */
import * as vscode from "vscode";

const STEPS = 20;
/** Weights below this are not drawn (a faint wash over every token says nothing). */
export const MIN_WEIGHT = 0.01;

export interface KeyHighlight {
  range: vscode.Range;
  weight: number;
  hover: string;
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
  }

  /** Highlights `keys` (grouped by opacity step) and frames the query token with `label` after it. */
  show(editor: vscode.TextEditor, query: vscode.Range | undefined, label: string, keys: KeyHighlight[]): void {
    const byStep: vscode.DecorationOptions[][] = Array.from({ length: STEPS }, () => []);
    for (const k of keys) {
      if (k.weight < MIN_WEIGHT) continue;
      byStep[stepOf(k.weight) - 1].push({ range: k.range, hoverMessage: k.hover });
    }
    this.steps.forEach((t, i) => editor.setDecorations(t, byStep[i]));
    editor.setDecorations(this.query, query ? [{ range: query, renderOptions: { after: { contentText: label } } }] : []);
    this.shownIn.add(editor);
  }

  clear(editor?: vscode.TextEditor): void {
    for (const e of editor ? [editor] : [...this.shownIn]) {
      for (const t of [...this.steps, this.query]) e.setDecorations(t, []);
      this.shownIn.delete(e);
    }
  }

  private disposeTypes(): void {
    for (const t of [...this.steps, this.query]) t.dispose();
  }

  dispose(): void {
    this.disposeTypes();
    this.themeListener.dispose();
  }
}
