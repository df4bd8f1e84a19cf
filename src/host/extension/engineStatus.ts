/**
 * The engine's status-bar item: the execution provider and the time of the last thing the engine
 * ran, named — "CPU · analysis 0.57 s" (a head computed) or "CPU · attention 0.05 s" (the model run
 * on the attention panel's text) — with a tooltip saying what ran, on which model. A spinner while
 * an analysis runs. The hover's model and head have their own item (hoverContext.ts).
 */
import * as vscode from "vscode";
import { headName } from "../../core/heads";
import { AnalysisService } from "./analysisService";
import { ModelEntry, modelName } from "./modelEntry";
import { readSettings } from "./settings";

interface LastRun {
  what: "analysis" | "attention";
  /** "L1H0 of demo-attn-2l", "demo-attn-2l on 62 tokens". */
  subject: string;
  ep: string;
  ms: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export class EngineStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("headLens.status", vscode.StatusBarAlignment.Right, 100);
  private last?: LastRun;
  private readonly subscription: { dispose(): void };

  constructor(private readonly analysis: AnalysisService) {
    this.item.name = "Head Lens: execution provider";
    this.item.command = "headLens.showOutput";
    this.subscription = analysis.listen({
      pending: () => this.update(),
      head: (model, h) => {
        if (!h.cached) this.ran("analysis", `${headName(h.report.layer, h.report.head)} of ${modelName(model)}`, h.report.ep, h.elapsedMs);
        else this.update();
      },
      settled: () => setTimeout(() => this.update(), 0),
    });
    this.update();
  }

  /** A live-attention run finished (patterns, predictions and attributions). */
  attentionRan(model: ModelEntry, tokens: number, ep: string, ms: number): void {
    this.ran("attention", `${modelName(model)} on ${tokens.toLocaleString("en-US")} tokens`, ep, ms);
  }

  private ran(what: LastRun["what"], subject: string, ep: string, ms: number): void {
    this.last = { what, subject, ep, ms };
    this.update();
  }

  private update(): void {
    const busy = this.analysis.busy;
    const last = this.last;
    const ep = (last?.ep || readSettings().engine.epPreference[0]).toUpperCase();
    this.item.text = busy ? `$(loading~spin) ${ep}` : `$(chip) ${ep}${last ? ` · ${last.what} ${seconds(last.ms)}` : ""}`;
    const tip = last
      ? `Head Lens: the engine's last work was the ${last.what === "analysis" ? "analysis" : "attention run"} of ${last.subject}: ` +
        `${seconds(last.ms)} on ${last.ep}.${busy ? " An analysis is running." : ""} Click for the log.`
      : "Head Lens: nothing run yet. Click for the log.";
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: tip };
    this.item.show();
    // Shows the Cancel action only while something runs.
    void vscode.commands.executeCommand("setContext", "headLens.busy", busy);
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
