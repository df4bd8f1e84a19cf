/** One name for a head everywhere (tree, panel, hover, exports, logs): "L1H0". The notebook-format
 * text report keeps its own `Head L:H` header (reportText.ts). */
export function headName(layer: number, head: number): string {
  return `L${layer}H${head}`;
}

/** A short list of head names ("L0H0, L0H1, L0H2" or "12 heads") for logs and titles. */
export function headList(heads: readonly { layer: number; head: number }[], max = 6): string {
  if (heads.length > max) return `${heads.length} heads`;
  return heads.map((h) => headName(h.layer, h.head)).join(", ");
}
