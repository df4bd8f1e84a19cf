/**
 * A sortable table whose rows are heads: every column sorts (a button in its header, aria-sort on
 * the header cell), cells are buttons that open the row's head, and the whole table is one tab
 * stop with arrow keys inside (grid.ts). Used by the overview and the token table.
 */
import { headName, HeadRef } from "../../src/core/heads";
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
  /** The cell's tooltip, where its text is cut (model text). */
  tooltip?(r: R): string;
  numeric?: boolean;
  /** The first click on its header sorts this way (ranks ascend, scores descend). */
  firstDir: SortDir;
  /** A background colour for the cell (CSSOM; the CSP forbids style attributes). */
  /** The cell's background, or its background and text colour (sequentialCell). */
  color?(r: R): string | { bg: string; fg: string } | undefined;
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

/** The order of two rows by the sorted column (missing values last, either way); 0 for ties. */
export function compareRows<R>(columns: Column<R>[], sort: SortState): (a: R, b: R) => number {
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
  return (a, b) => cmp(col.value(a), col.value(b));
}

/** Rows sorted by a column; ties keep the given order (heads in order). */
export function sortRows<R>(rows: R[], columns: Column<R>[], sort: SortState): R[] {
  const cmp = compareRows(columns, sort);
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => cmp(x.r, y.r) || x.i - y.i)
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
  const rows = sortRows(t.rows, t.columns, t.sort).map((r, i) => tableRow(t, r, i));
  return el(
    "table",
    { class: "heads-table", id: t.id, "data-grid": t.id },
    el("caption", {}, t.caption),
    el("thead", {}, head),
    el("tbody", {}, ...rows),
  );
}

/** The row each table row shows (placeRow compares them). */
const rowData = new WeakMap<HTMLTableRowElement, unknown>();

/** One row: its cells are buttons at grid row `index` (gridKeyboard.ts). */
export function tableRow<R>(t: TableSpec<R>, r: R, index: number): HTMLTableRowElement {
  const cells = t.columns.map((c, j) => {
    const b = el("button", { class: "cell", "data-col": String(j), tabindex: "-1", "aria-label": t.cellLabel(r, c) }, c.text(r));
    const tip = c.tooltip?.(r);
    if (tip) b.title = tip;
    const shade = c.color?.(r);
    if (shade) {
      b.classList.add("shaded");
      b.style.setProperty("--cell-bg", typeof shade === "string" ? shade : shade.bg);
      if (typeof shade !== "string") b.style.setProperty("--cell-fg", shade.fg);
    }
    b.addEventListener("click", () => t.open(r));
    return j === 0 ? el("th", { scope: "row" }, b) : el("td", { class: c.numeric ? "num" : "" }, b);
  });
  const tr = el("tr", { class: t.rowClass?.(r) ?? "" }, ...cells);
  setRowIndex(tr, index);
  rowData.set(tr, r);
  return tr;
}

function setRowIndex(tr: HTMLTableRowElement, index: number): void {
  for (const b of tr.querySelectorAll<HTMLElement>("button.cell")) b.dataset.row = String(index);
}

/**
 * Puts row `r` in the table where a full sort would (after its ties: it is the newest), replacing
 * the row `same` matches; the other rows stay (a focused cell keeps the focus). Returns the new row.
 */
export function placeRow<R>(table: HTMLElement, t: TableSpec<R>, r: R, same: (a: R) => boolean): HTMLTableRowElement {
  const body = table.querySelector("tbody")!;
  const cmp = compareRows(t.columns, t.sort);
  const rows = [...body.rows];
  const old = rows.find((tr) => same(rowData.get(tr) as R));
  const next = rows.find((tr) => tr !== old && cmp(rowData.get(tr) as R, r) > 0);
  const tr = tableRow(t, r, 0);
  body.insertBefore(tr, next ?? null);
  // A replaced row's tab stop (and focus) go to the same column of the new one.
  const stop = old?.querySelector<HTMLElement>('button.cell[tabindex="0"]');
  const cell = stop && tr.querySelector<HTMLElement>(`button.cell[data-col="${stop.dataset.col}"]`);
  if (cell) cell.tabIndex = 0;
  if (cell && stop === document.activeElement) cell.focus({ preventScroll: true });
  old?.remove();
  [...body.rows].forEach(setRowIndex); // grid rows are sorted positions
  return tr;
}

/** The first column of a table whose rows are heads: the head's name, sorted in model order. */
export function headColumn<R extends HeadRef>(): Column<R> {
  return {
    key: "head",
    title: "Head",
    help: "The head, named as in the tree and the heads panel.",
    firstDir: "asc",
    value: (h) => h.layer * 1e4 + h.head,
    text: (h) => headName(h.layer, h.head),
  };
}

/** A cell's spoken name in a table of heads: "Key rank of L1H0: 14, open the head". */
export function headCellLabel<R extends HeadRef>(h: R, c: Column<R>): string {
  return c.key === "head"
    ? `${headName(h.layer, h.head)}, open the head`
    : `${c.title} of ${headName(h.layer, h.head)}: ${c.text(h)}, open the head`;
}
