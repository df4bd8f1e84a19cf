/**
 * "cuda" in headLens.executionProviders: the engine worker gets the installed CUDA provider
 * (src/host/gpu), or runs without it — on the rest of the list, or the CPU — while the user is
 * asked, once per session, whether to download it (its size and host shown), with progress and
 * cancel. A failure is one warning that says what is missing; the engine keeps running on the CPU.
 */
import { readFileSync } from "node:fs";
import * as vscode from "vscode";
import { errorMessage, isCancelled } from "../../core/errors";
import { notificationText } from "../../core/markdownText";
import { ExecutionProvider } from "../../protocol/engine";
import { CudaProvider, readManifest } from "../gpu/cudaProvider";
import { chooseProviders, ProviderChoice } from "../gpu/providerChoice";

export const INSTALL_CUDA = "headLens.installCudaProvider";

export class CudaSetup {
  private provider?: CudaProvider;
  private asked = false;
  private readonly shown = new Set<string>();

  constructor(
    private readonly storageDir: string,
    private readonly log: vscode.LogOutputChannel,
    /** Starts a new engine worker with the next request (it then loads the installed provider). */
    private readonly restartEngine: () => void,
  ) {}

  private get cuda(): CudaProvider {
    // HEAD_LENS_CUDA_MANIFEST: as for the CLI, a package served from elsewhere (an offline mirror, tests).
    const manifest = process.env.HEAD_LENS_CUDA_MANIFEST ? readManifest(process.env.HEAD_LENS_CUDA_MANIFEST) : undefined;
    return (this.provider ??= new CudaProvider({ storageDir: this.storageDir, manifest }));
  }

  /** What the next engine worker starts with; offers the download when cuda is asked for and missing. */
  providers(prefs: ExecutionProvider[]): ProviderChoice {
    let choice: ProviderChoice;
    try {
      choice = chooseProviders(prefs, () => this.cuda);
    } catch (e) {
      // A manifest named by HEAD_LENS_CUDA_MANIFEST that cannot be read: the engine still starts.
      const rest = prefs.filter((p) => p !== "cuda");
      this.warn(`cuda: ${errorMessage(e)}; Head Lens runs on ${rest.length ? rest.join(", ") : "cpu"}`);
      return { epPreference: rest.length ? rest : ["cpu"] };
    }
    if (choice.note && !this.shown.has(choice.note)) {
      // An install from an offline mirror, used without HEAD_LENS_CUDA_MANIFEST: said once, in the log (not a prompt each session).
      this.shown.add(choice.note);
      this.log.info(`cuda: ${choice.note}`);
    }
    if (choice.missing) {
      this.log.warn(`cuda: ${choice.missing}; running on ${choice.epPreference.join(", ")}`);
      if (!this.asked) {
        this.asked = true;
        void this.offer(false);
      }
    }
    return choice;
  }

  /** A warning from the engine (a provider asked for and not used), shown once per message. */
  engineWarning(message: string): void {
    if (this.shown.has(message)) return;
    this.shown.add(message);
    void vscode.window.showWarningMessage(notificationText(`Head Lens: ${message}`));
  }

  /** Asks, then downloads; `explicit`: the user ran the command (say so when there is nothing to do). */
  async offer(explicit: boolean): Promise<void> {
    const p = this.cuda;
    const why = p.unavailable();
    if (why) return this.warn(`cuda: ${why}; Head Lens runs on the CPU`);
    if (p.installed()) {
      if (explicit) void vscode.window.showInformationMessage(notificationText(`Head Lens: the CUDA provider is installed in ${p.root}`));
      return;
    }
    const host = new URL(p.package!.url).host;
    const pick = await vscode.window.showInformationMessage(
      notificationText(
        `Head Lens: onnxruntime's CUDA provider is not installed, so Head Lens runs on the CPU. ` +
          `Download it (${p.downloadMiB} MiB from ${host}, checksummed)? It needs ${p.manifest.requirements}.`,
      ),
      "Download",
      "Not Now",
    );
    if (pick === "Download") await this.install(p);
  }

  private async install(p: CudaProvider): Promise<void> {
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "Head Lens: downloading the CUDA provider", cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let shown = 0;
          const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
          await p.install({
            signal: abort.signal,
            onProgress: ({ received, total }) => {
              const pct = (100 * received) / total;
              if (pct - shown < 1 && received < total) return;
              progress.report({ increment: pct - shown, message: `${mib(received)} / ${mib(total)} MiB` });
              shown = pct;
            },
          });
        },
      );
    } catch (e) {
      if (isCancelled(e))
        return void vscode.window.showInformationMessage("Head Lens: CUDA provider download cancelled; nothing was kept.");
      return this.warn(`cuda: ${errorMessage(e)}; Head Lens runs on the CPU`);
    }
    this.log.info(`CUDA provider installed in ${p.root}`);
    if (onnxruntimeLoadedHere()) {
      // The engine is a thread of this process, which holds the bundled onnxruntime already: a restart
      // could not switch it (and would cancel what runs); a window reload does.
      const pick = await vscode.window.showInformationMessage(
        "Head Lens: the CUDA provider is installed. This window has loaded onnxruntime already: reload it to run on CUDA.",
        "Reload Window",
      );
      if (pick === "Reload Window") await vscode.commands.executeCommand("workbench.action.reloadWindow");
      return;
    }
    void vscode.window.showInformationMessage("Head Lens: the CUDA provider is installed; the next analysis runs on it.");
    this.restartEngine();
  }

  private warn(message: string): void {
    this.log.warn(message);
    this.engineWarning(message);
  }
}

/** Whether a libonnxruntime is mapped into this process (Linux; the engine worker's, as the worker's ortModule.ts reads it). */
function onnxruntimeLoadedHere(): boolean {
  try {
    return readFileSync("/proc/self/maps", "utf8").includes("/libonnxruntime.so.1");
  } catch {
    return false;
  }
}
