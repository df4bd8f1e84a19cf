/**
 * Keyboard: each chip list (and each head's path bar) is one tab stop (roving tabindex: arrows,
 * Home and End move inside it, Tab leaves it), each head starts with a skip link to the next head, and focus survives the
 * panel's re-renders (elements carry a stable data-nav key).
 */

/** Which chip of each list holds the tab stop, by the list's data-list key. */
const active = new Map<string, number>();

/** Items of a roving list: chips, or a path bar's options. */
const ITEM = ":scope > .chip, :scope > .path-opt";
const isItem = (t: HTMLElement) => !!t.classList && (t.classList.contains("chip") || t.classList.contains("path-opt"));
const LIST = "[data-list]";

function chipsOf(list: Element): HTMLElement[] {
  return [...list.querySelectorAll<HTMLElement>(ITEM)];
}

function setActive(list: HTMLElement, index: number): HTMLElement | undefined {
  const chips = chipsOf(list);
  if (!chips.length) return undefined;
  const i = Math.max(0, Math.min(chips.length - 1, index));
  chips.forEach((c, j) => c.setAttribute("tabindex", j === i ? "0" : "-1"));
  active.set(list.dataset.list ?? "", i);
  return chips[i];
}

/** After a render: one tab stop per chip list, where the user left it. */
export function initRoving(root: ParentNode): void {
  for (const list of root.querySelectorAll<HTMLElement>(LIST)) setActive(list, active.get(list.dataset.list ?? "") ?? 0);
}

/** Stable key of the focused element, to restore focus after the DOM is rebuilt. */
export function focusedKey(): string | undefined {
  return (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("[data-nav]")?.dataset.nav;
}

export function restoreFocus(key: string | undefined): void {
  if (!key) return;
  const e = document.querySelector<HTMLElement>(`[data-nav="${CSS.escape(key)}"]`);
  if (!e) return;
  const list = isItem(e) ? e.closest<HTMLElement>(LIST) : null;
  if (list) setActive(list, chipsOf(list).indexOf(e));
  e.focus({ preventScroll: true });
}

const MOVES: Record<string, (i: number, n: number) => number> = {
  ArrowRight: (i) => i + 1,
  ArrowDown: (i) => i + 1,
  ArrowLeft: (i) => i - 1,
  ArrowUp: (i) => i - 1,
  Home: () => 0,
  End: (_, n) => n - 1,
};

/** Installs the document-level keyboard handling once. `skipTo(key)` moves past the head `key`. */
export function installKeyboard(skipTo: (key: string) => void): void {
  document.addEventListener("keydown", (ev) => {
    const t = ev.target as HTMLElement;
    const list = isItem(t) ? t.closest<HTMLElement>(LIST) : null;
    const move = MOVES[ev.key];
    if (!list || !move || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const chips = chipsOf(list);
    const next = setActive(list, move(chips.indexOf(t), chips.length));
    next?.focus();
    ev.preventDefault();
  });
  // A chip focused by the mouse takes the list's tab stop too.
  document.addEventListener("focusin", (ev) => {
    const t = ev.target as HTMLElement;
    const list = isItem(t) ? t.closest<HTMLElement>(LIST) : null;
    if (list) setActive(list, chipsOf(list).indexOf(t));
  });
  document.addEventListener("click", (ev) => {
    const link = (ev.target as HTMLElement).closest<HTMLElement>("a[data-skip]");
    if (!link) return;
    ev.preventDefault();
    skipTo(link.dataset.skip!);
  });
}
