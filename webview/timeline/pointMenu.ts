/**
 * What a chosen point offers, in a small menu beside it: open that checkpoint's overview, its head in
 * the heads panel, or make it one end of the comparison. Focus moves into the menu; Escape (or a
 * click elsewhere) closes it and gives focus back to the chart.
 */
import { el } from "../shared/dom";

export interface MenuAction {
  label: string;
  run(): void;
}

let open: { menu: HTMLElement; chart: HTMLElement } | undefined;

export function closePointMenu(refocus = true): void {
  if (!open) return;
  const { menu, chart } = open;
  open = undefined;
  menu.remove();
  if (refocus) chart.focus();
}

export function showPointMenu(
  figure: HTMLElement,
  chart: HTMLElement,
  anchor: { x: number; y: number },
  title: string,
  actions: MenuAction[],
): void {
  closePointMenu(false);
  const buttons = actions.map((a) => {
    const b = el("button", { type: "button" }, a.label);
    b.addEventListener("click", () => {
      closePointMenu(false);
      a.run();
    });
    return b;
  });
  const menu = el("div", { class: "point-menu", role: "dialog", "aria-label": title }, el("strong", {}, title), ...buttons);
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closePointMenu();
    }
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
      buttons[(i + (e.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length].focus();
    }
  });
  // Placed inside the chart's box: beside the point, kept within the figure's width.
  const left = chart.offsetLeft + anchor.x;
  menu.style.top = `${chart.offsetTop + anchor.y + 12}px`;
  figure.append(menu);
  menu.style.left = `${Math.max(0, Math.min(left - 20, figure.clientWidth - menu.offsetWidth - 4))}px`;
  open = { menu, chart };
  buttons[0]?.focus();
}

// A click outside the open menu closes it (without taking the focus the click gave).
document.addEventListener("mousedown", (e) => {
  if (open && !open.menu.contains(e.target as Node)) closePointMenu(false);
});
