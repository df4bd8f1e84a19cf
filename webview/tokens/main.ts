/**
 * "Which heads use this token": every head of the model by the token's exact rank among its keys,
 * filled as the engine streams the heads in, sortable by every column; a cell opens its head.
 */
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-progress-bar/index.js";
import { priorLabel } from "../../src/core/priorSpec";
import type { TokenQuery, TokenTableApi, TokenTableHostApi } from "../../src/protocol/tokenPanel";
import type { TokenHead } from "../../src/protocol/engine";
import { el } from "../shared/dom";
import { focusedCell, initGrids, installGridKeyboard, keepTabStop, restoreCell } from "../shared/gridKeyboard";
import { focusedKey, restoreFocus } from "../shared/rovingKeyboard";
import { visibleToken } from "../shared/tokenText";
import { cutToken } from "../../src/core/tokenDisplay";
import { connect } from "../shared/connect";
import { Column, headCellLabel, headColumn, placeRow, sortableTable, SortState, TableSpec } from "../shared/sortableTable";

interface State {
  query?: TokenQuery;
  rows: TokenHead[];
  fraction: number;
  outcome?: { cancelled: boolean; error?: string };
  sort: SortState;
}

const { vscode, channel } = connect<State, TokenTableApi, TokenTableHostApi>();
const app = document.getElementById("app")!;
let state: State = vscode.getState() ?? { rows: [], fraction: 0, sort: { key: "keyRank", dir: "asc" } };
/** The page of the current query, built once per query: a streamed head adds its row only. */
interface Page {
  top: HTMLElement;
  controls: HTMLElement;
  /** What the controls offer: "cancel", "rerun" or "none". */
  actions: string;
  bar: HTMLElement;
  status: HTMLElement;
  table: HTMLElement;
}
let page: Page | undefined;

const save = () => vscode.setState(state);

channel
  .serve("start", (q) => {
    state = { ...state, query: q, rows: [], fraction: 0, outcome: undefined };
    save();
    build();
  })
  .serve("head", ({ head }) => {
    const same = (r: TokenHead) => r.layer === head.layer && r.head === head.head;
    state.rows = [...state.rows.filter((r) => !same(r)), head];
    save();
    if (!page) return;
    placeRow(page.table, tableSpec(state.query!), head, same);
    keepTabStop(page.table);
    updateChrome();
  })
  .serve("progress", ({ fraction }) => {
    state.fraction = fraction;
    updateChrome();
  })
  .serve("finished", (outcome) => {
    state.outcome = outcome;
    save();
    updateChrome();
  });

const int = (n: number) => n.toLocaleString("en-US");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "—");

const COLUMNS: Column<TokenHead>[] = [
  headColumn(),
  {
    key: "keyRank",
    title: "Key rank",
    help: "Where the token ranks among all the head's keys by importance, exactly (0 = the head's most important key).",
    numeric: true,
    firstDir: "asc",
    value: (h) => h.keyRank,
    text: (h) => int(h.keyRank),
  },
  {
    key: "importance",
    title: "Importance",
    help: "The token's importance as a key: max QK · max OV · p(key)^0.1.",
    numeric: true,
    firstDir: "desc",
    value: (h) => h.importance,
    text: (h) => h.importance.toPrecision(3),
  },
  {
    key: "maxQK",
    title: "Max QK",
    help: "The most any query prefers this key: max over q of QK[q,k] − QK[q,BOS].",
    numeric: true,
    firstDir: "desc",
    value: (h) => h.maxQK,
    text: (h) => f2(h.maxQK),
  },
  {
    key: "maxOV",
    title: "Max OV",
    help: "The most attending to this token raises any output's logit: max over o of OV[k,o] minus the row mean.",
    numeric: true,
    firstDir: "desc",
    value: (h) => h.maxOV,
    text: (h) => f2(h.maxOV),
  },
  {
    key: "selfOutputRank",
    title: "Own-output rank",
    help: "Where the token itself ranks among the outputs it raises in this head (0 = it raises its own logit most: copying).",
    numeric: true,
    firstDir: "asc",
    value: (h) => h.selfOutputRank,
    text: (h) => int(h.selfOutputRank),
  },
  {
    key: "bestKeys",
    title: "Best keys as a query",
    help: "The keys this token prefers most as a query (by QK[q,k] − QK[q,BOS]); sorted by the best one's score.",
    firstDir: "desc",
    value: (h) => h.bestKeys[0]?.score ?? NaN,
    text: (h) => h.bestKeys.map((k) => cutToken(visibleToken(k.token))).join("  "),
    tooltip: (h) => h.bestKeys.map((k) => k.token).join("\n"),
  },
];

/** The page for the state's query: header, status, the table, the note; the chrome is then updated in place. */
function build(): void {
  const q = state.query;
  if (!q) {
    page = undefined;
    app.replaceChildren(
      el("p", { class: "empty" }, "No token yet. Run “Head Lens: Which Heads Use a Token…”, or use the link in an editor hover."),
    );
    return;
  }
  const tok = el("code", { class: "token-name", title: q.token.token }, cutToken(visibleToken(q.token.token)));
  const controls = el("div", { class: "controls" });
  const top = el(
    "header",
    { class: "top" },
    el(
      "div",
      { class: "title" },
      el("h1", {}, "Which heads use ", tok, "?"),
      el(
        "span",
        { class: "meta" },
        `${q.model.name} · token id ${q.token.id} · prior: ${priorLabel(q.prior)} · exact ranks among ${int(q.model.dVocab)} keys`,
      ),
    ),
    controls,
  );
  const bar = el("vscode-progress-bar", { value: "0", max: "100", "aria-label": "Progress over the heads" });
  page = { top, controls, actions: "", bar, status: el("p", { class: "status", role: "status" }), table: sortableTable(tableSpec(q)) };
  app.replaceChildren(
    top,
    page.status,
    el("div", { class: "table-scroll" }, page.table), // a narrow panel scrolls the table, not the page
    el(
      "p",
      { class: "meta explain-line" },
      "Key rank and importance depend on the prior shown above (importance weighs a key by p(key)^0.1); max QK, max OV, own-output rank and best keys do not.",
    ),
  );
  initGrids(app);
  updateChrome();
}

function tableSpec(q: TokenQuery): TableSpec<TokenHead> {
  return {
    id: "token-heads",
    caption:
      `Every head by where ${cutToken(q.token.token)} ranks among its keys. ` +
      "Click a cell (or press Enter on it) to open the head; click a column's title to sort.",
    columns: COLUMNS,
    rows: state.rows,
    sort: state.sort,
    onSort: (sort) => {
      state.sort = sort;
      save();
      resort(q);
    },
    cellLabel: headCellLabel,
    open: (h) => channel.notify("openHead", { layer: h.layer, head: h.head }),
  };
}

/** A new sort: the table is rebuilt, the focused cell (or sort button) keeps the focus. */
function resort(q: TokenQuery): void {
  if (!page) return;
  const focus = focusedCell(),
    focusNav = focusedKey();
  const table = sortableTable(tableSpec(q));
  page.table.replaceWith(table);
  page.table = table;
  initGrids(app); // the table is a grid itself: look from above it
  if (focus) restoreCell(focus);
  else restoreFocus(focusNav);
}

/** The progress bar, Cancel / Run again and the status line, in place (a focused Cancel stays). */
function updateChrome(): void {
  const q = state.query;
  if (!page || !q) return;
  const running = !state.outcome;
  if (!running) page.bar.remove();
  else if (!page.bar.isConnected) page.top.append(page.bar);
  page.bar.setAttribute("value", String(Math.round(100 * state.fraction)));
  const kind = running ? "cancel" : state.outcome?.cancelled || state.outcome?.error ? "rerun" : "none";
  if (page.actions !== kind) {
    page.actions = kind;
    page.controls.replaceChildren(...actions(running));
  }
  const text = statusText(q, running);
  if (page.status.textContent !== text) page.status.textContent = text; // a live region: said again only when it changes
}

function statusText(q: TokenQuery, running: boolean): string {
  const done = state.rows.length;
  if (running) return `${done} of ${q.total} heads so far…`;
  if (state.outcome!.error) return `Failed after ${done} of ${q.total} heads: ${state.outcome!.error}`;
  return state.outcome!.cancelled ? `Cancelled after ${done} of ${q.total} heads.` : `All ${q.total} heads.`;
}

function actions(running: boolean): HTMLElement[] {
  if (running) {
    const cancel = el("vscode-button", { id: "cancel", secondary: "" }, "Cancel");
    cancel.addEventListener("click", () => channel.notify("cancel", {}));
    return [cancel];
  }
  if (state.outcome?.cancelled || state.outcome?.error) {
    const again = el("vscode-button", { id: "rerun", secondary: "" }, "Run again");
    again.addEventListener("click", () => channel.notify("rerun", {}));
    return [again];
  }
  return [];
}

installGridKeyboard();
build();
channel.notify("ready", {});
