/** Small DOM helpers shared by the panel's modules. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export const headKey = (layer: number, head: number) => `${layer}:${head}`;
export const headId = (layer: number, head: number) => `head-${layer}-${head}`;
