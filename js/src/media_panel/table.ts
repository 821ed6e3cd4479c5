// One page of a logged table (20 rows), read from the Arrow IPC the kernel sends, with a
// pager that asks the kernel for another page.

import { tableFromIPC } from "apache-arrow";
import { h, formatCell } from "../common";
import { toBytes, type TableCell } from "./types";

/** The rows of a page as text, column by column as the kernel sent them. */
export function pageRows(cell: TableCell): { columns: string[]; rows: string[][] } {
  const table = tableFromIPC(toBytes(cell.arrow));
  const columns = table.schema.fields.map((f) => f.name);
  const rows: string[][] = [];
  for (let i = 0; i < table.numRows; i++) {
    rows.push(columns.map((c) => formatCell(table.getChild(c)?.get(i))));
  }
  return { columns, rows };
}

/** The table, its caption and its pager; `turn(page)` asks for another page. */
export function tableView(cell: TableCell, turn: (page: number) => void): HTMLElement {
  const box = h("div", "ll-mp-table");
  box.dataset.n = String(cell.n);
  if (cell.caption) box.append(h("div", "ll-mp-caption", cell.caption));
  const { columns, rows } = pageRows(cell);
  const wrap = h("div", "ll-mp-table-wrap");
  const t = document.createElement("table");
  const head = document.createElement("tr");
  for (const c of columns) head.append(h("th", "", c));
  t.append(head);
  for (const r of rows) {
    const tr = document.createElement("tr");
    for (const v of r) tr.append(h("td", "", v));
    t.append(tr);
  }
  wrap.append(t);
  const first = cell.page * 20 + 1;
  const last = cell.page * 20 + rows.length;
  const bar = h("div", "ll-mp-pager");
  const prev = h("button", "ll-mp-page-prev", "‹");
  const next = h("button", "ll-mp-page-next", "›");
  prev.disabled = cell.page <= 0;
  next.disabled = cell.page >= cell.pages - 1;
  prev.addEventListener("click", () => turn(cell.page - 1));
  next.addEventListener("click", () => turn(cell.page + 1));
  const where = cell.total ? `rows ${first}–${last} of ${cell.total}` : "no rows";
  bar.append(prev, next, h("span", "ll-mp-rows", where));
  box.append(wrap, bar);
  return box;
}
