/** Registers commands so that every failure, whatever the command, is one notification naming it. */
import * as vscode from "vscode";
import type { Services } from "./services";

export type Register = (id: string, f: (...args: never[]) => unknown) => void;

export function commandRegistrar(s: Pick<Services, "context" | "reportError">): Register {
  return (id, f) =>
    s.context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await f(...args);
        } catch (e) {
          s.reportError(commandTitle(s.context, id), e);
        }
      }),
    );
}

/** The command's title as the palette shows it ("Choose Attention Head"), for messages about it. */
function commandTitle(context: vscode.ExtensionContext, id: string): string {
  const commands =
    (context.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } }).contributes?.commands ?? [];
  return commands.find((c) => c.command === id)?.title.replace(/…$/, "") ?? id.replace("headLens.", "");
}
