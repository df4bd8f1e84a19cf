/**
 * The patching grid: layers × heads, each cell a button with the head's share of the clean − corrupted
 * gap, (metric with the head patched − corrupted) / (clean − corrupted): 1 = patching the head alone
 * restores the clean metric, 0 = no effect, negative = away from it. Colour: the pages' one signed scale.
 */
import { headName } from "../../src/core/heads";
import { chipColor, Palette } from "../shared/colors";
import { el } from "../shared/dom";

/** A head's share of the gap; NaN when the clean and corrupted metrics are equal (no gap to restore). */
export function shareOfGap(patched: number, clean: number, corrupt: number): number {
  return clean === corrupt ? NaN : (patched - corrupt) / (clean - corrupt);
}

export const percent = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : "n/a");

export function patchHeatmap(
  L: number,
  H: number,
  share: (l: number, h: number) => number,
  palette: Palette,
  choose: (l: number, h: number) => void,
): HTMLElement {
  let scale = 0;
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) if (Number.isFinite(share(l, h))) scale = Math.max(scale, Math.abs(share(l, h)));
  const head = el("tr", {}, el("td", { class: "corner" }), ...Array.from({ length: H }, (_, h) => el("th", { scope: "col" }, `H${h}`)));
  const rows = Array.from({ length: L }, (_, l) =>
    el(
      "tr",
      {},
      el("th", { scope: "row" }, `L${l}`),
      ...Array.from({ length: H }, (_, h) => {
        const x = share(l, h);
        const label = `${headName(l, h)} patched from the clean run restores ${percent(x)} of the gap`;
        const b = el(
          "button",
          {
            class: "cell",
            type: "button",
            "data-row": String(l),
            "data-col": String(h),
            "data-head": headName(l, h),
            "data-share": String(x),
            tabindex: "-1",
            "aria-label": `${label}; show its positions and pattern`,
            title: label,
          },
          percent(x),
        );
        if (Number.isFinite(x)) b.style.background = chipColor(palette, x, scale);
        b.addEventListener("click", () => choose(l, h));
        return el("td", {}, b);
      }),
    ),
  );
  return el(
    "table",
    { class: "patch-grid", "data-grid": "patching" },
    el("caption", {}, "Share of the gap restored, per head"),
    head,
    ...rows,
  );
}
