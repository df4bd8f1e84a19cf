/**
 * Finding one's way in a long panel: the head index (jump links) in the sticky bar, the sticky
 * current-head title, scrolling to a head (from the tree or the index) without hiding its title
 * under the sticky bar, the reader's place (kept by the browser's scroll anchoring as heads stream
 * in; saved for when a hidden tab comes back), and skip links.
 */
import { headName, parseHeadKey } from "../../src/core/heads";
import { el, headId } from "../shared/dom";

/** The head index (jump links), filled by syncHeadIndex. */
export function headIndex(): HTMLElement {
  return el("nav", { class: "head-index", "aria-label": "Heads in this panel" }, el("span", { class: "index-label" }, "Jump to"));
}

/** One link per head in the panel, in order: links already there stay (one may have the focus). */
export function syncHeadIndex(nav: HTMLElement, keys: string[], jump: (key: string) => void): void {
  const links = new Map([...nav.querySelectorAll<HTMLElement>("a[data-jump]")].map((a) => [a.dataset.jump!, a]));
  let prev: Element = nav.firstElementChild!; // the label
  for (const key of keys) {
    const a = links.get(key) ?? jumpLink(key, jump);
    links.delete(key);
    if (prev.nextElementSibling !== a) prev.after(a);
    prev = a;
  }
  for (const gone of links.values()) gone.remove();
}

function jumpLink(key: string, jump: (key: string) => void): HTMLElement {
  const { layer, head } = parseHeadKey(key)!;
  const a = el("a", { href: `#${headId(layer, head)}`, "data-jump": key, "data-nav": `jump-${key}` }, headName(layer, head));
  a.addEventListener("click", (ev) => {
    ev.preventDefault();
    jump(key);
  });
  return a;
}

let barHeight = 0;
const setHeaderHeight = () => {
  const h = document.querySelector<HTMLElement>("header.top")?.offsetHeight ?? 0;
  // The bar is in the page's flow: when it grows, the browser keeps the head being read where it
  // was on screen, which is now partly under the bar; scroll back by the difference so that the
  // reader's line stays just below the bar.
  if (barHeight && h && h !== barHeight && window.scrollY > 0) window.scrollBy(0, barHeight - h);
  barHeight = h;
  document.documentElement.style.setProperty("--header-h", `${h}px`);
};
const headerObserver = new ResizeObserver(setHeaderHeight);

/** Keeps --header-h equal to the sticky bar's height (focus scrolls to below it); call once the page's bar exists. */
export function trackHeaderHeight(): void {
  headerObserver.disconnect();
  barHeight = 0;
  const header = document.querySelector<HTMLElement>("header.top");
  if (header) headerObserver.observe(header);
}

/** Resolves once the VS Code Elements in `root` have rendered (Lit renders them a microtask
 * later), so that the sticky bar has its real height before anything is measured against it. */
export function whenSettled(root: ParentNode): Promise<unknown> {
  const updates = [...root.querySelectorAll("*")]
    .map((e) => (e as unknown as { updateComplete?: Promise<unknown> }).updateComplete)
    .filter(Boolean);
  return Promise.all(updates);
}

/** Space between the sticky bar and a head scrolled to (as heads.css's scroll-margin). */
const GAP = 6;

/**
 * Scrolls a head's section to just below the sticky bar. Only this page scrolls: scrollIntoView
 * would also nudge VS Code's frame around the webview, hiding the bar's top edge.
 */
export function scrollToHead(key: string, focus: boolean): boolean {
  const [layer, head] = key.split(":").map(Number);
  const sec = document.getElementById(headId(layer, head));
  if (!sec) return false;
  setHeaderHeight();
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  window.scrollBy(0, sec.getBoundingClientRect().top - bar - GAP);
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

/**
 * Marks what is scrolled past (under the sticky bar or above it) as no scroll anchor: the browser
 * then anchors on what the reader sees below the bar, and a head refilled or added above it does
 * not move the page under the reader.
 */
function markPassed(): void {
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  for (const e of document.querySelectorAll<HTMLElement>("#app > details, #app > p, section.head"))
    e.classList.toggle("passed", e.getBoundingClientRect().bottom <= bar);
}

/** Updates the sticky bar's "Viewing" title, the index's aria-current, and what is scrolled past. */
export function updateCurrentHead(): void {
  markPassed();
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
  const update = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      updateCurrentHead();
    });
  };
  window.addEventListener("scroll", update, { passive: true });
  window.addEventListener("resize", update, { passive: true });
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

/** Puts that head back where it was below the bar (a re-created page: its tab was hidden). */
export function restoreAnchor(a: Anchor | undefined): void {
  if (!a) return;
  const [layer, head] = a.key.split(":").map(Number);
  const sec = document.getElementById(headId(layer, head));
  if (!sec) return;
  const bar = document.querySelector<HTMLElement>("header.top")?.getBoundingClientRect().bottom ?? 0;
  window.scrollBy(0, sec.getBoundingClientRect().top - bar - a.offset);
}
