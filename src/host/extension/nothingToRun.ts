/**
 * Show Attention's "nothing to run on" cases, said once and calmly (an information message: the
 * user did nothing wrong, the file simply has no text), before a model is asked for and without
 * opening the panel: no text editor, an empty file, a binary file (in VS Code's binary preview or
 * opened as text anyway). Each message names the file and says what to open instead.
 */
import * as vscode from "vscode";
import { closeSync, openSync, readSync } from "node:fs";
import { notificationText } from "../../core/markdownText";

const COMMAND = "Head Lens: Show Attention (Ctrl+Alt+A)";
const RUNS_ON_TEXT = `Head Lens runs on text: open a text file and run ${COMMAND} there.`;
/** Bytes of a previewed file read to find its first NUL (VS Code's own binary check reads less). */
const SNIFF_BYTES = 64 * 1024;

export const NO_EDITOR = `no text editor is active: open a file, select text (or put the cursor in it) and run ${COMMAND} again.`;

/** The file's name for a message: one line, no path. */
function fileName(uri: vscode.Uri): string {
  return (uri.path.split("/").pop() || uri.toString()).replace(/[\r\n]+/g, " ");
}

/** Why the editor's text cannot be run (the text Show Attention takes: the selection, else the file), or undefined. */
export function nothingToRunIn(editor: vscode.TextEditor): string | undefined {
  const doc = editor.document,
    sel = editor.selection;
  const name = fileName(doc.uri);
  if (doc.getText().length === 0)
    return `${name} is empty: there is no text to run the model on. Type some text or open a file with text, then run ${COMMAND} again.`;
  const start = sel.isEmpty ? 0 : doc.offsetAt(sel.start);
  const nul = (sel.isEmpty ? doc.getText() : doc.getText(sel)).indexOf("\u0000");
  if (nul < 0) return undefined;
  const at = doc.positionAt(start + nul);
  return `${name} looks binary (a NUL character at line ${at.line + 1}, column ${at.character + 1}). ${RUNS_ON_TEXT}`;
}

/** What to say when no text editor is active: about the file VS Code shows as binary, if that is what is open. */
export function nothingToRunWithoutEditor(): string {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (!(input instanceof vscode.TabInputText)) return NO_EDITOR;
  const name = fileName(input.uri);
  const nul = input.uri.scheme === "file" ? firstNul(input.uri.fsPath) : -1;
  const why = nul >= 0 ? `looks binary (a NUL byte at offset ${nul})` : "is not open in a text editor";
  return `${name} ${why}. ${RUNS_ON_TEXT}`;
}

/** The offset of the first NUL byte in the file's first SNIFF_BYTES, or -1 (also when it cannot be read). */
function firstNul(path: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buf = Buffer.alloc(SNIFF_BYTES);
    return buf.subarray(0, readSync(fd, buf, 0, SNIFF_BYTES, 0)).indexOf(0);
  } catch {
    return -1;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One information message, "Head Lens: …". */
export function sayNothingToRun(message: string): void {
  void vscode.window.showInformationMessage(notificationText(`Head Lens: ${message}`)); // the message names the user's file
}
