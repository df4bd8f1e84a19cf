/**
 * One model's heads panel: which heads (and paths of heads) it shows, the analysis events it
 * relays to its page, and the replay the page gets when VS Code re-creates it (a hidden page is not
 * retained, so results that arrived meanwhile would otherwise be lost).
 */
import * as vscode from "vscode";
import { CompositionSet } from "../../core/headMetrics";
import { byHead, HeadRef, parseResultKey, resultKey } from "../../core/heads";
import { PathRef } from "../../core/report";
import { savedSettings } from "../../core/reportSettings";
import { HeadResult } from "../../protocol/engine";
import { HeadsPanelApi, HeadsPanelHostApi, PanelState } from "../../protocol/headsPanel";
import { LoadableModel, modelName } from "./modelEntry";
import { PAGES } from "./pages";
import { WebviewHost } from "./webviewHost";

export type AnalysisEvent =
  | { pending: HeadRef[]; via?: PathRef }
  | { progress: number; at: HeadRef; via?: PathRef }
  | { head: HeadResult }
  | { finished: { cancelled: boolean; error?: string }; heads: HeadRef[]; via?: PathRef };

type Message = { [M in keyof HeadsPanelApi]: [M, HeadsPanelApi[M]["params"]] }[keyof HeadsPanelApi];

export class HeadsPanel {
  readonly host: WebviewHost<HeadsPanelHostApi, HeadsPanelApi>;
  /** The latest result of every head (and path of a head) shown, by resultKey; a head asked for
   * and not computed yet is its ref. */
  private readonly heads = new Map<string, HeadResult | HeadRef>();
  /** Composition scores that order each head's paths, replayed with the heads. */
  private composition?: { composition?: CompositionSet; error?: string };

  /** A new panel, or (`restored`) the one VS Code re-created after a reload with the state its page saved. */
  constructor(
    readonly model: LoadableModel,
    extensionUri: vscode.Uri,
    restored?: { panel: vscode.WebviewPanel; state?: PanelState },
  ) {
    const title = `Head Lens: ${modelName(model)}`;
    const options = {
      waiting: "flush" as const,
      onReady: (first: boolean) => {
        if (first) return;
        if (this.composition) this.host.post("paths", this.composition);
        for (const h of this.heads.values()) if ("report" in h) this.host.post("head", { head: h });
      },
    };
    this.host = restored
      ? WebviewHost.adopt(restored.panel, PAGES.heads, extensionUri, title, options)
      : WebviewHost.create(PAGES.heads, extensionUri, title, { column: vscode.ViewColumn.Active, preserveFocus: true }, options);
    for (const h of restored?.state?.heads ?? []) {
      const computedWith = savedSettings(h.computedWith); // a state saved by an earlier version too
      if (computedWith) this.heads.set(resultKey(h.report, h.report.via), { ...h, computedWith });
    }
  }

  /** Heads this panel shows (direct paths), in order. */
  shown(): HeadRef[] {
    return this.shownPaths()
      .filter((p) => !p.via)
      .map((p) => p.ref);
  }

  /** Every head and path this panel shows (the direct path has no `via`), heads in order. */
  shownPaths(): { ref: HeadRef; via?: PathRef }[] {
    const out = [...this.heads.keys()]
      .map(parseResultKey)
      .filter((k) => k !== undefined)
      .map((k) => (k.via ? { ref: k.head, via: k.via } : { ref: k.head }));
    return out.sort((a, b) => byHead(a.ref, b.ref));
  }

  /** Heads (or one path of each) the user asked this panel to show: only their results reach it
   * (an export or a copy analyzes other heads without changing what the panel shows). */
  request(heads: HeadRef[], via?: PathRef): void {
    for (const h of heads) if (!this.heads.has(resultKey(h, via))) this.heads.set(resultKey(h, via), { layer: h.layer, head: h.head });
  }

  wants(ref: HeadRef, via?: PathRef): boolean {
    return this.heads.has(resultKey(ref, via));
  }

  /** Relays analysis events about the heads (and paths) this panel shows. */
  relay(event: AnalysisEvent): void {
    if ("pending" in event) {
      const heads = event.pending.filter((h) => this.wants(h, event.via));
      if (heads.length) this.post("pending", event.via ? { heads, via: event.via } : { heads });
    } else if ("progress" in event) {
      if (this.wants(event.at, event.via))
        this.post("progress", {
          fraction: event.progress,
          layer: event.at.layer,
          head: event.at.head,
          ...(event.via ? { via: event.via } : {}),
        });
    } else if ("head" in event) {
      if (this.wants(event.head.report, event.head.report.via)) this.post("head", { head: event.head });
    } else if (event.heads.some((h) => this.wants(h, event.via))) this.post("finished", event.finished);
  }

  /** Tells the page something (held until it listens); results and paths are kept for a replay. */
  post(...[method, params]: Message): void {
    if (method === "head") this.heads.set(resultKey(params.head.report, params.head.report.via), params.head);
    if (method === "paths") this.composition = params;
    this.host.post(method, params as never);
  }
}
