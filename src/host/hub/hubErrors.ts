/**
 * The hub's failures as errors that say what to do: its X-Error-Code (as huggingface_hub's
 * hf_raise_for_status reads it), a refused file-server link, an unreachable hub.
 */
import { HeadLensError } from "../../core/errors";

/** What a request was about. */
export interface Subject {
  repo: string;
  revision?: string;
  file?: string;
}

/** The hub's X-Error-Code (as huggingface_hub's hf_raise_for_status reads it) as a message that says what to do. */
export async function httpError(
  res: Response,
  s: Subject,
  hub: { endpoint: string; hasToken: boolean },
  cdn = false,
): Promise<HeadLensError> {
  const code = res.headers.get("x-error-code") ?? "";
  const said =
    res.headers.get("x-error-message") ?? (cdn ? /<Message>([^<]*)<\/Message>/.exec(await res.text().catch(() => ""))?.[1] : undefined);
  await res.body?.cancel().catch(() => undefined);
  const page = `${hub.endpoint}/${s.repo}`;
  const setToken = `set HF_TOKEN (or run "Head Lens: Set Hugging Face Token…")`;
  const status = `HTTP ${res.status}${said ? `: ${said}` : ""}`;
  let msg: string;
  if (cdn) {
    // A signed link past its expiry, or refused for another reason: a fresh HEAD gets a new one.
    if (res.status === 400 || res.status === 403)
      return new HeadLensError(`the download link for ${s.file} was refused (${status}); run it again for a fresh link`, "hub.linkRefused");
    msg = `download of ${s.file} failed at the file server (${status}); run it again`;
  } else if (code === "GatedRepo" && res.status === 403) {
    msg = `${s.repo} is gated and your token has no access to it yet: accept its terms at ${page} (some repos wait for the authors' approval), then try again`;
  } else if (code === "GatedRepo") {
    msg = `${s.repo} is gated: accept its terms at ${page} while signed in, then ${setToken} to a token of that account`;
  } else if (res.status === 401 && said === "Invalid credentials in Authorization header") {
    msg = `the hub refused the access token (invalid credentials); ${setToken} to a valid one, or remove it`;
  } else if (code === "RepoNotFound" || res.status === 401) {
    msg = `repository ${s.repo} not found on ${hub.endpoint}: check the model name${hub.hasToken ? "" : `; if it is private, ${setToken}`}`;
  } else if (code === "RevisionNotFound") {
    msg = `${s.repo} has no revision "${s.revision}": check the branch, tag or commit`;
  } else if (code === "EntryNotFound") {
    msg = `${s.repo}@${s.revision} has no file "${s.file}"`;
  } else {
    msg = `${s.repo}: cannot get ${s.file ?? "the file list"}`;
  }
  return new HeadLensError(`${msg} (${status})`, `hub.http.${code || res.status}`);
}

export function networkError(what: string, e: unknown, endpoint: string): HeadLensError {
  if (e instanceof HeadLensError) return e;
  if ((e as Error)?.name === "AbortError") return new HeadLensError(`download of ${what} cancelled`, "cancelled");
  return new HeadLensError(
    `${what}: the hub at ${endpoint} is unreachable (${(e as Error).message}); check the network, or set HF_HUB_OFFLINE=1 to use only cached files`,
    "hub.network",
  );
}
