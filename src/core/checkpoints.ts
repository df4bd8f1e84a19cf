/**
 * Training checkpoints of one model, as TransformerLens finds them: files `checkpoints/<anything>_<N>.pth`
 * (or `.safetensors`, Head Lens's folders) whose N is the label; labels are tokens seen when the last
 * one exceeds 1e9, else steps (loading_from_pretrained.py). A listing comes from the hub or a folder,
 * so it is untrusted: every name is checked before it becomes a path, and a listing too large to be
 * a model's history is refused whole.
 */
import { HeadLensError } from "./errors";

export type LabelType = "token" | "step";

export interface CheckpointFile {
  /** Tokens seen or training steps (labelType). */
  label: number;
  /** Repository-relative path, always `checkpoints/<name>`. */
  file: string;
  /** Bytes, when the listing says. */
  size?: number;
  /** The hub's content hash (LFS sha256 or git blob sha1), when the listing says. */
  etag?: string;
}

export interface CheckpointListing {
  labelType: LabelType;
  /** Ascending by label; one file per label (a .pth wins over a .safetensors). */
  checkpoints: CheckpointFile[];
  /** Entries under checkpoints/ that are not checkpoints, with why (shown once, never fatal). */
  ignored: string[];
}

/** TransformerLens's attn-only repos hold ≈ 200; a listing of more than this is not a training history. */
export const MAX_CHECKPOINTS = 5000;
/** Entries of a listing read at most (a 10⁶-entry tree is refused after this many). */
export const MAX_LISTING_ENTRIES = 20_000;

const NAME = /^checkpoints\/([A-Za-z0-9][A-Za-z0-9._+-]{0,199})_(\d{1,15})\.(pth|safetensors)$/;

export interface ListedEntry {
  path: string;
  size?: number;
  etag?: string;
}

/** The checkpoints of a listing (hub tree or folder), checked; `where` names it in messages. */
export function checkpointListing(entries: ListedEntry[], where: string): CheckpointListing {
  if (entries.length > MAX_LISTING_ENTRIES) {
    throw new HeadLensError(
      `${where}: the listing has more than ${MAX_LISTING_ENTRIES} entries, more than any model's training history; refused`,
      "hub.listing",
    );
  }
  const byLabel = new Map<number, CheckpointFile>();
  const ignored: string[] = [];
  for (const e of entries) {
    if (!e.path.startsWith("checkpoints/")) continue;
    const m = NAME.exec(e.path);
    if (!m) {
      ignored.push(`${JSON.stringify(e.path)}: ${unsafe(e.path) ? "not a plain file name under checkpoints/" : "not <name>_<number>.pth"}`);
      continue;
    }
    const label = Number(m[2]);
    const had = byLabel.get(label);
    if (had && !(had.file.endsWith(".safetensors") && m[3] === "pth")) {
      ignored.push(`${JSON.stringify(e.path)}: a second checkpoint labelled ${label}`);
      continue;
    }
    byLabel.set(label, { label, file: e.path, ...(e.size !== undefined ? { size: e.size } : {}), ...(e.etag ? { etag: e.etag } : {}) });
  }
  if (byLabel.size > MAX_CHECKPOINTS) {
    throw new HeadLensError(`${where}: ${byLabel.size} checkpoints is more than ${MAX_CHECKPOINTS}; refused`, "hub.listing");
  }
  const checkpoints = [...byLabel.values()].sort((a, b) => a.label - b.label);
  const last = checkpoints.at(-1)?.label ?? 0;
  return { labelType: last > 1e9 ? "token" : "step", checkpoints, ignored };
}

/** Names that would leave the folder or are not one plain name: `..`, absolute, separators, control characters. */
function unsafe(path: string): boolean {
  const rest = path.slice("checkpoints/".length);
  return (
    rest.includes("/") || rest.includes("\\") || rest.startsWith(".") || [...rest].some((c) => c.charCodeAt(0) < 0x20) || rest.length === 0
  );
}

/**
 * `n` checkpoints spread evenly in log-label space, always the first and the last (label 0 counts
 * as the smallest positive label: log 0 is no place): for each of n targets the nearest unused one.
 */
export function spreadCheckpoints<T extends { label: number }>(all: T[], n: number): T[] {
  if (n >= all.length) return [...all];
  if (n <= 1) return all.length ? [all.at(-1)!] : [];
  const positive = all.filter((c) => c.label > 0).map((c) => c.label);
  const floor = positive.length ? Math.min(...positive) : 1;
  const x = (c: T) => Math.log(Math.max(c.label, floor));
  const lo = x(all[0]),
    hi = x(all.at(-1)!);
  const chosen = new Set<number>([0, all.length - 1]);
  for (let k = 1; k < n - 1; k++) {
    const target = lo + ((hi - lo) * k) / (n - 1);
    let best = -1;
    for (let i = 0; i < all.length; i++)
      if (!chosen.has(i) && (best < 0 || Math.abs(x(all[i]) - target) < Math.abs(x(all[best]) - target))) best = i;
    if (best >= 0) chosen.add(best);
  }
  return [...chosen].sort((a, b) => a - b).map((i) => all[i]);
}

/** The checkpoint labelled `label`, or an error that lists a few that exist. */
export function checkpointByLabel(listing: CheckpointListing, label: number, where: string): CheckpointFile {
  const hit = listing.checkpoints.find((c) => c.label === label);
  if (hit) return hit;
  const labels = listing.checkpoints.map((c) => c.label);
  const some = labels.length > 8 ? [...labels.slice(0, 4), "…", ...labels.slice(-3)] : labels;
  throw new HeadLensError(
    labels.length
      ? `${where}: no checkpoint labelled ${label} (it has ${labels.length}: ${some.join(", ")})`
      : `${where}: has no checkpoints (files checkpoints/<name>_<number>.pth or .safetensors)`,
    "model.checkpoint",
  );
}
