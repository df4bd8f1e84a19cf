/**
 * A sortable table whose rows are heads: every column sorts (a button in its header, aria-sort on
 * the header cell), cells are buttons that open the row's head, and the whole table is one tab
 * stop with arrow keys inside (grid.ts). Used by the overview and the token table.
 */
import { el } from "./dom";

export type SortDir = "asc" | "desc";
export interface SortState {
  key: string;
  dir: SortDir;
}

export interface Column<R> {
  key: string;
  title: string;
  /** One sentence: what the column is, and its source. The header's tooltip. */
  help: string;
  /** The value sorted by. */
  value(r: R): number | string;
  /** What the cell shows. */
  text(r: R): string;
  numeric?: boolean;
  /** The first click on its header sorts this way (ranks ascend, scores descend). */
  firstDir: SortDir;
  /** A background colour for the cell (CSSOM; the CSP forbids style attributes). */
  color?(r: R): string | undefined;
}

export interface TableSpec<R> {
  /** Stable id (focus and the tab stop survive re-renders). */
  id: string;
  caption: string;
  columns: Column<R>[];
  rows: R[];
  sort: SortState;
  onSort(sort: SortState): void;
  /** The accessible name of a cell's button ("Key rank of L1H0: 14, open L1H0"). */
  cellLabel(r: R, c: Column<R>): string;
  open(r: R): void;
  /** Marks a row (e.g. the head a badge names). */
  rowClass?(r: R): string;
}

/** Rows sorted by a column; ties keep the given order (heads in order). */
export function sortRows<R>(rows: R[], columns: Column<R>[], sort: SortState): R[] {
  const col = columns.find((c) => c.key === sort.key) ?? columns[0];
  const sign = sort.dir === "asc" ? 1 : -1;
  const cmp = (a: number | string, b: number | string) => {
    if (typeof a === "number" && typeof b === "number") {
      const na = Number.isNaN(a),
        nb = Number.isNaN(b);
      if (na || nb) return Number(na) - Number(nb); // missing values last, either way
      return sign * (a - b);
    }
    return sign * String(a).localeCompare(String(b), "en", { numeric: true });
  };
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => cmp(col.value(x.r), col.value(y.r)) || x.i - y.i)
    .map((x) => x.r);
}

export function nextSort(current: SortState, col: { key: string; firstDir: SortDir }): SortState {
  if (current.key !== col.key) return { key: col.key, dir: col.firstDir };
  return { key: col.key, dir: current.dir === "asc" ? "desc" : "asc" };
}

export function sortableTable<R>(t: TableSpec<R>): HTMLElement {
  const head = el(
    "tr",
    {},
    ...t.columns.map((c) => {
      const on = t.sort.key === c.key;
      const arrow = on ? (t.sort.dir === "asc" ? "▲" : "▼") : "";
      const b = el(
        "button",
        { class: "sort", title: `${c.help} Click to sort.`, "data-nav": `sort-${t.id}-${c.key}` },
        c.title,
        el("span", { class: "arrow", "aria-hidden": "true" }, arrow),
      );
      b.addEventListener("click", () => t.onSort(nextSort(t.sort, c)));
      const th = el("th", { scope: "col", class: c.numeric ? "num" : "" }, b);
      if (on) th.setAttribute("aria-sort", t.sort.dir === "asc" ? "ascending" : "descending");
      return th;
    }),
  );
  const rows = sortRows(t.rows, t.columns, t.sort).map((r, i) => {
    const cells = t.columns.map((c, j) => {
      const b = el(
        "button",
        { class: "cell", "data-row": String(i), "data-col": String(j), tabindex: "-1", "aria-label": t.cellLabel(r, c) },
        c.text(r),
      );
      const bg = c.color?.(r);
      if (bg) {
        b.classList.add("shaded");
        b.style.setProperty("--cell-bg", bg);
      }
      b.addEventListener("click", () => t.open(r));
      return j === 0 ? el("th", { scope: "row" }, b) : el("td", { class: c.numeric ? "num" : "" }, b);
    });
    return el("tr", { class: t.rowClass?.(r) ?? "" }, ...cells);
  });
  return el(
    "table",
    { class: "heads-table", id: t.id, "data-grid": t.id },
    el("caption", {}, t.caption),
    el("thead", {}, head),
    el("tbody", {}, ...rows),
  );
}
