/**
 * The corrupted copy's editor: its tokens that differ from the clean text's token at the same position
 * are marked (a border in the theme's modified-line colour, the clean token in the hover), and the
 * first line ends with both token counts, so the user sees while typing when patching can run.
 */
import * as vscode from "vscode";
import { markdownText } from "../../core/markdownText";
import { RunToken } from "../../protocol/attention";

/** Positions whose token differs (by id) between two runs; a position only one run has counts as differing. */
export function differingPositions(clean: readonly RunToken[], corrupt: readonly RunToken[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < corrupt.length; i++) if (clean[i]?.id !== corrupt[i].id) out.push(i);
  return out;
}

export class DifferingTokens implements vscode.Disposable {
  private readonly differ = vscode.window.createTextEditorDecorationType({
    border: "1px solid",
    borderColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    borderRadius: "2px",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Center,
  });
  private readonly counts = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em" },
  });
  private readonly shownIn = new Set<vscode.TextEditor>();

  show(editor: vscode.TextEditor, clean: readonly RunToken[], corrupt: readonly RunToken[]): void {
    const doc = editor.document;
    const marks = differingPositions(clean, corrupt)
      .filter((i) => corrupt[i].end > corrupt[i].start)
      .map((i) => ({
        range: new vscode.Range(doc.positionAt(corrupt[i].start), doc.positionAt(corrupt[i].end)),
        hoverMessage: new vscode.MarkdownString(
          `Position ${i}: clean ${clean[i] ? markdownText(clean[i].token) : "(no token)"}, corrupted ${markdownText(corrupt[i].token)}`,
        ),
      }));
    editor.setDecorations(this.differ, marks);
    const equal = clean.length === corrupt.length;
    const n = differingPositions(clean, corrupt).length;
    const words =
      `Head Lens patching: clean ${clean.length} tokens, corrupted ${corrupt.length} tokens` +
      (equal ? `, ${n} differ` : ": edit until the counts are equal");
    const end = doc.lineAt(0).range.end;
    editor.setDecorations(this.counts, [{ range: new vscode.Range(end, end), renderOptions: { after: { contentText: words } } }]);
    this.shownIn.add(editor);
  }

  clear(): void {
    for (const e of this.shownIn) for (const t of [this.differ, this.counts]) e.setDecorations(t, []);
    this.shownIn.clear();
  }

  dispose(): void {
    this.differ.dispose();
    this.counts.dispose();
  }
}
