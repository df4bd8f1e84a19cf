/**
 * Finding one's way in a long panel: the head index (jump links) in the sticky bar, the sticky
 * current-head title, scrolling to a head (from the tree or the index) without hiding its title
 * under the sticky bar, and skip links.
 */
import { headName } from "../../src/core/heads";
import { el, headId } from "../shared/dom";

/** The head index: one link per head in the panel, in order. */
export function headIndex(heads: { layer: number; head: number }[], jump: (key: string) => void): HTMLElement {
  const nav = el("nav", { class: "head-index", "aria-label": "Heads in this panel" }, el("span", { class: "index-label" }, "Jump to"));
  for (const h of heads) {
    const key = `${h.layer}:${h.head}`;
    const a = el("a", { href: `#${headId(h.layer, h.head)}`, "data-jump": key, "data-nav": `jump-${key}` }, headName(h.layer, h.head));
    a.addEventListener("click", (ev) => {
      ev.preventDefault();
      jump(key);
    });
    nav.append(a);
  }
  return nav;
}

const setHeaderHeight = () => {
  const h = document.querySelector<HTMLElement>("header.top")?.offsetHeight ?? 0;
  document.documentElement.style.setProperty("--header-h", `${h}px`);
};
const headerObserver = new ResizeObserver(setHeaderHeight);

/** Keeps --header-h equal to the sticky bar's height (headings scrolled to stop below it); call
 * after each render, which replaces the bar. */
export function trackHeaderHeight(): void {
  headerObserver.disconnect();
  const header = document.querySelector<HTMLElement>("header.top");
  if (header) headerObserver.observe(header);
  setHeaderHeight();
}

/** Resolves once the VS Code Elements in `root` have rendered (Lit renders them a microtask
 * later), so that the sticky bar has its real height before anything is measured against it. */
export function whenSettled(root: ParentNode): Promise<unknown> {
  const updates = [...root.querySelectorAll("*")]
    .map((e) => (e as unknown as { updateComplete?: Promise<unknown> }).updateComplete)
    .filter(Boolean);
  return Promise.all(updates);
}

/** Scrolls a head's section to just below the sticky bar (its scroll-margin is the bar's height). */
export function scrollToHead(key: string, focus: boolean): boolean {
  const [layer, head] = key.split(":").map(Number);
  const sec = document.getElementById(headId(layer, head));
  if (!sec) return false;
  setHeaderHeight();
  sec.scrollIntoView({ block: "start" });
  if (focus) sec.querySelector<HTMLElement>("button.toggle")?.focus({ preventScroll: true });
  updateCurrentHead();
  return true;
}

/** The head whose section is under the sticky bar's bottom edge. */
export function currentHead(): string | undefined {
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  let current: string | undefined;
  const sections = document.querySelectorAll<HTMLElement>("section.head");
  // Scrolled to the very end: the last head is the one being read even if its title cannot reach the bar.
  const end = window.scrollY > 0 && window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
  if (end && sections.length) return sections[sections.length - 1].dataset.head;
  for (const sec of sections) {
    if (!current || sec.getBoundingClientRect().top <= bar + 8) current = sec.dataset.head;
    else break;
  }
  return current;
}

/** Updates the sticky bar's "Viewing" title and the index's aria-current. */
export function updateCurrentHead(): void {
  const key = currentHead();
  const title = document.getElementById("current-head");
  if (title) {
    const [layer, head] = (key ?? "").split(":").map(Number);
    title.textContent = key ? headName(layer, head) : "—";
    const meta = key && document.querySelector(`#${headId(layer, head)} .head-title .meta`)?.textContent;
    title.title = meta ? `${title.textContent}: ${meta}` : "";
  }
  for (const a of document.querySelectorAll<HTMLElement>(".head-index a[data-jump]")) {
    if (a.dataset.jump === key) a.setAttribute("aria-current", "location");
    else a.removeAttribute("aria-current");
  }
}

export function trackCurrentHead(): void {
  let queued = false;
  window.addEventListener(
    "scroll",
    () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        updateCurrentHead();
      });
    },
    { passive: true },
  );
}

/** What the reader is looking at: the first head not yet scrolled past, and its offset from the bar. */
export interface Anchor {
  key: string;
  offset: number;
}

export function captureAnchor(): Anchor | undefined {
  if (window.scrollY <= 0) return undefined; // at the top, stay at the top
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  for (const sec of document.querySelectorAll<HTMLElement>("section.head")) {
    const r = sec.getBoundingClientRect();
    if (r.bottom > bar) return { key: sec.dataset.head!, offset: r.top - bar };
  }
  return undefined;
}

/** After a re-render (heads streaming in above or below), keeps that head where it was on screen. */
export function restoreAnchor(a: Anchor | undefined): void {
  if (!a) return;
  const [layer, head] = a.key.split(":").map(Number);
  const sec = document.getElementById(headId(layer, head));
  if (!sec) return;
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  window.scrollBy(0, sec.getBoundingClientRect().top - bar - a.offset);
}
