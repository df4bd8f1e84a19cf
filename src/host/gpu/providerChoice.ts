/** What an engine worker starts with when "cuda" is in the user's provider list. */
import { ExecutionProvider } from "../../protocol/engine";
import type { CudaProvider } from "./cudaProvider";

export interface ProviderChoice {
  epPreference: ExecutionProvider[];
  /** The installed onnxruntime-node with the CUDA provider, when it is used. */
  ortRoot?: string;
  /** Why "cuda" was left out of the list (the user is told, with what to do). */
  missing?: string;
  /** The install used came from another package than the manifest's (an offline mirror's): the user is told which. */
  note?: string;
}

/**
 * The CUDA copy of onnxruntime-node when it is installed (the CPU after the list); otherwise the list without "cuda" (the CPU
 * when nothing else is left), with the reason. No list without "cuda" asks anything of `provider`.
 */
export function chooseProviders(prefs: readonly ExecutionProvider[], provider: () => CudaProvider): ProviderChoice {
  if (!prefs.includes("cuda")) return { epPreference: [...prefs] };
  const p = provider();
  const { root, otherSource, problem } = p.state();
  if (root) {
    // The CPU last, so that a CUDA provider that fails to start (no driver, no cuDNN) falls back to it.
    const choice: ProviderChoice = { epPreference: prefs.includes("cpu") ? [...prefs] : [...prefs, "cpu"], ortRoot: root };
    return otherSource ? { ...choice, note: otherSource } : choice;
  }
  const rest = prefs.filter((e) => e !== "cuda");
  const missing =
    p.unavailable() ??
    (problem
      ? `the CUDA provider in ${p.root} is not used: ${problem}; install it again (it replaces that folder)`
      : `onnxruntime's CUDA provider (${p.manifest.ortVersion}) is not installed in ${p.root}`);
  return { epPreference: rest.length ? rest : ["cpu"], missing };
}
