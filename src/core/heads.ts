/**
 * Heads and paths, named and keyed in one place. A head is `L1H0` everywhere (tree, panels, hover,
 * exports, logs, CLI) — except the notebook-format text report, which keeps its `Head L:H` header
 * (reportText.ts). Results are keyed by head and path with the keys below, on every side.
 */
import type { PathRef } from "./report";

export interface HeadRef {
  layer: number;
  head: number;
}

export function headName(layer: number, head: number): string {
  return `L${layer}H${head}`;
}

/** A short list of head names ("L0H0, L0H1, L0H2" or "12 heads") for logs and titles. */
export function headList(heads: readonly HeadRef[], max = 6): string {
  if (heads.length > max) return `${heads.length} heads`;
  return heads.map((h) => headName(h.layer, h.head)).join(", ");
}

/** Every head of a model, layer by layer (optionally only layers ≥ `fromLayer`). */
export function allHeads(nLayers: number, nHeads: number, fromLayer = 0): HeadRef[] {
  const out: HeadRef[] = [];
  for (let layer = fromLayer; layer < nLayers; layer++) for (let head = 0; head < nHeads; head++) out.push({ layer, head });
  return out;
}

/** Heads in model order (layer, then head). */
export const byHead = (a: HeadRef, b: HeadRef) => a.layer - b.layer || a.head - b.head;

/** "1:0" for L1H0. */
export function headKey(h: HeadRef): string {
  return `${h.layer}:${h.head}`;
}

export function parseHeadKey(key: string | undefined): HeadRef | undefined {
  const m = /^(\d+):(\d+)$/.exec(key ?? "");
  return m ? { layer: Number(m[1]), head: Number(m[2]) } : undefined;
}

/** "0:3:k" for a path through L0H3's keys; "" for the direct path. */
export function pathKey(via: PathRef | undefined | null): string {
  return via ? `${via.layer}:${via.head}:${via.type}` : "";
}

export function parsePathKey(key: string | undefined): PathRef | undefined {
  const m = /^(\d+):(\d+):([kqv])$/.exec(key ?? "");
  return m ? { layer: Number(m[1]), head: Number(m[2]), type: m[3] as PathRef["type"] } : undefined;
}

/** One result of a head: "1:0" for its direct path, "1:0|0:3:k" for its path through L0H3's keys. */
export function resultKey(h: HeadRef, via?: PathRef | null): string {
  return via ? `${headKey(h)}|${pathKey(via)}` : headKey(h);
}

export function parseResultKey(key: string): { head: HeadRef; via?: PathRef } | undefined {
  const [h, p] = key.split("|");
  const head = parseHeadKey(h);
  if (!head) return undefined;
  const via = parsePathKey(p);
  return via ? { head, via } : { head };
}

/** The path's name in words: "via L0H3 (K)". */
export function pathName(via: PathRef): string {
  return `via ${headName(via.layer, via.head)} (${via.type.toUpperCase()})`;
}
