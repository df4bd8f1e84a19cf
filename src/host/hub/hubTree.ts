/**
 * A repo folder's files from the hub's tree API, as huggingface_hub's list_repo_tree reads it:
 * GET /api/models/{repo}/tree/{revision}/{path}?recursive=true, a JSON array per page, the next page
 * in the Link header (rel="next"). Sizes and LFS sha256s come with it, so nothing is HEADed per
 * file. Bounded: a listing is read to MAX_LISTING_ENTRIES entries and refused beyond. Kept per
 * revision in Head Lens's cache, so an offline run lists what an online one saw.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ListedEntry, MAX_LISTING_ENTRIES } from "../../core/checkpoints";
import { HeadLensError } from "../../core/errors";
import { HubClient } from "./hubClient";
import { httpError, networkError } from "./hubErrors";

interface TreeEntry {
  type?: string;
  path?: unknown;
  size?: unknown;
  oid?: unknown;
  lfs?: { oid?: unknown; size?: unknown };
}

/** Pages read at most (the hub's pages hold 1 000 entries; a loop of Link headers must still end). */
const MAX_PAGES = 100;

export async function listTree(hub: HubClient, repo: string, revision: string, folder: string, cacheDir: string, signal?: AbortSignal) {
  const cachePath = join(cacheDir, "listings", repo.replace(/\//g, "--"), encodeURIComponent(revision), `${folder}.json`);
  const cached = () => {
    try {
      const v = JSON.parse(readFileSync(cachePath, "utf8"));
      return Array.isArray(v) ? (v as ListedEntry[]) : undefined;
    } catch {
      return undefined; // absent, or unreadable: not a listing
    }
  };
  if (hub.offline) {
    const hit = cached();
    if (hit) return hit;
    throw new HeadLensError(
      `${repo}@${revision}: HF_HUB_OFFLINE is set and its ${folder}/ listing is not in the cache; list it once with network access`,
      "hub.offline",
    );
  }
  const entries: ListedEntry[] = [];
  let url: string | undefined = `${hub.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}/${folder}?recursive=true`;
  for (let page = 0; url; page++) {
    if (page === MAX_PAGES || entries.length > MAX_LISTING_ENTRIES)
      throw new HeadLensError(
        `${repo}/${folder}: the listing has more than ${MAX_LISTING_ENTRIES} entries, more than any model's training history; refused`,
        "hub.listing",
      );
    let res: Response;
    try {
      ({ res } = await hub.send(url, { signal }, true));
    } catch (e) {
      const hit = cached();
      if (hit && !(e instanceof HeadLensError)) return hit; // network down: the listing seen last
      throw networkError(`${repo}/${folder}`, e, hub.endpoint);
    }
    if (!res.ok) throw await httpError(res, { repo, revision, file: `${folder}/` }, hub.errorContext);
    const body = (await res.json().catch(() => undefined)) as TreeEntry[] | undefined;
    if (!Array.isArray(body)) throw new HeadLensError(`${repo}/${folder}: the hub's tree answer is not a list of files`, "hub.protocol");
    for (const e of body) {
      if (e?.type !== "file" || typeof e.path !== "string") continue;
      const size = Number(e.lfs?.size ?? e.size);
      const etag = typeof e.lfs?.oid === "string" ? e.lfs.oid : typeof e.oid === "string" ? e.oid : undefined;
      entries.push({
        path: e.path,
        ...(Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
        ...(etag && /^[0-9a-f]{40,64}$/.test(etag) ? { etag } : {}),
      });
    }
    url = nextPage(res.headers.get("link"), url);
  }
  mkdirSync(dirname(cachePath), { recursive: true });
  const tmp = `${cachePath}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(entries));
  renameSync(tmp, cachePath);
  return entries;
}

/** The rel="next" URL of a Link header, only on the same origin (the token goes nowhere else). */
function nextPage(link: string | null, current: string): string | undefined {
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? "");
  if (!m) return undefined;
  const next = new URL(m[1], current);
  return next.origin === new URL(current).origin ? next.href : undefined;
}
