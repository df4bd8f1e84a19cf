/**
 * Two-dimensional roving tabindex for tables and heatmaps: a `[data-grid]` container is one tab
 * stop; arrow keys move between its `[data-row][data-col]` cells (buttons), Home / End to the
 * row's ends, Ctrl+Home / Ctrl+End to the first / last cell. The cell that held the focus keeps
 * the tab stop across re-renders (by the grid's and the cell's keys).
 */

const active = new Map<string, string>();

const cellsOf = (grid: HTMLElement) => [...grid.querySelectorAll<HTMLElement>("[data-row][data-col]")];
const pos = (c: HTMLElement) => [Number(c.dataset.row), Number(c.dataset.col)] as const;
const cellKey = (c: HTMLElement) => `${c.dataset.row}:${c.dataset.col}`;

function setActive(grid: HTMLElement, cell: HTMLElement | undefined): void {
  const cells = cellsOf(grid);
  const target = cell ?? cells[0];
  for (const c of cells) c.setAttribute("tabindex", c === target ? "0" : "-1");
  if (target) active.set(grid.dataset.grid ?? "", cellKey(target));
}

/** After a render: each grid gets its one tab stop back where the user left it. */
export function initGrids(root: ParentNode): void {
  for (const grid of root.querySelectorAll<HTMLElement>("[data-grid]")) {
    const key = active.get(grid.dataset.grid ?? "");
    setActive(
      grid,
      cellsOf(grid).find((c) => cellKey(c) === key),
    );
  }
}

/** After rows came or went: the grid keeps its one tab stop where it is (the first cell if none). */
export function keepTabStop(grid: HTMLElement): void {
  const stop = cellsOf(grid).find((c) => c.tabIndex === 0);
  setActive(grid, stop);
}

/** The nearest cell from `from` in a direction: same row or column first, then the closest. */
function step(cells: HTMLElement[], from: HTMLElement, dr: number, dc: number): HTMLElement | undefined {
  const [r0, c0] = pos(from);
  let best: HTMLElement | undefined;
  let bestCost = Infinity;
  for (const c of cells) {
    const [r, col] = pos(c);
    const along = dr ? (r - r0) * dr : (col - c0) * dc;
    if (along <= 0) continue;
    const across = dr ? Math.abs(col - c0) : Math.abs(r - r0);
    const cost = along * 1000 + across;
    if (cost < bestCost) {
      best = c;
      bestCost = cost;
    }
  }
  return best;
}

export function installGridKeyboard(): void {
  document.addEventListener("keydown", (ev) => {
    const t = ev.target as HTMLElement;
    const grid = t.closest?.<HTMLElement>("[data-grid]");
    if (!grid || t.dataset.row === undefined || ev.altKey || ev.metaKey) return;
    const cells = cellsOf(grid);
    const [r0] = pos(t);
    const row = cells.filter((c) => pos(c)[0] === r0);
    let next: HTMLElement | undefined;
    switch (ev.key) {
      case "ArrowRight":
        next = step(cells, t, 0, 1);
        break;
      case "ArrowLeft":
        next = step(cells, t, 0, -1);
        break;
      case "ArrowDown":
        next = step(cells, t, 1, 0);
        break;
      case "ArrowUp":
        next = step(cells, t, -1, 0);
        break;
      case "Home":
        next = ev.ctrlKey ? cells[0] : row[0];
        break;
      case "End":
        next = ev.ctrlKey ? cells[cells.length - 1] : row[row.length - 1];
        break;
      default:
        return;
    }
    ev.preventDefault();
    if (!next) return;
    setActive(grid, next);
    next.focus();
  });
  // A cell clicked or focused otherwise takes the grid's tab stop.
  document.addEventListener("focusin", (ev) => {
    const t = ev.target as HTMLElement;
    const grid = t.closest?.<HTMLElement>("[data-grid]");
    if (grid && t.dataset.row !== undefined) setActive(grid, t);
  });
}

/** The focused cell's grid and position, to restore focus after a re-render. */
export function focusedCell(): { grid: string; cell: string } | undefined {
  const t = document.activeElement as HTMLElement | null;
  const grid = t?.closest<HTMLElement>("[data-grid]");
  return grid && t?.dataset.row !== undefined ? { grid: grid.dataset.grid ?? "", cell: cellKey(t) } : undefined;
}

export function restoreCell(f: { grid: string; cell: string } | undefined): void {
  if (!f) return;
  const grid = document.querySelector<HTMLElement>(`[data-grid="${CSS.escape(f.grid)}"]`);
  const cell = grid && cellsOf(grid).find((c) => cellKey(c) === f.cell);
  cell?.focus({ preventScroll: true });
}
