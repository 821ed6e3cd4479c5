// How the run table draws a cell, and a row of runs: a checkbox, then one cell per column
// (times as UTC, a run's state as a coloured badge), or a placeholder while its page loads.

import { DataType } from "apache-arrow";
import { h, formatCell } from "../common";
import type { Hit } from "./page_cache";
import { ROW_H } from "./scroll";
import { flexOf } from "./widths";

/** One cell of the header or of a row. */
export const cell = (text: string, cls: string): HTMLDivElement => h("div", `ll-cell ${cls}`, text);

/** The run id of a row. */
export const rowId = (hit: Hit): string => String(hit.table.getChild("id")?.get(hit.index) ?? "");

/** Row `i` while its page is on its way. */
export function loadingRow(i: number): HTMLDivElement {
  const r = h("div", "ll-row ll-loading");
  r.dataset.index = String(i);
  r.style.height = `${ROW_H}px`;
  r.append(cell("…", "ll-check"));
  return r;
}

/** How a row is drawn: each column's width, and the run's colour (a swatch), if any. */
export interface RowLook {
  width: (column: string) => number;
  color: (runId: string) => string | undefined;
}

/** Row `i`, the run at `path`, showing `columns` of its page. */
export function runRow(
  i: number,
  hit: Hit,
  path: string,
  columns: string[],
  selected: boolean,
  look?: RowLook,
): HTMLDivElement {
  const r = h("div", "ll-row");
  r.dataset.index = String(i);
  r.style.height = `${ROW_H}px`;
  r.dataset.path = path;
  if (selected) r.classList.add("ll-selected");
  const check = document.createElement("input");
  check.type = "checkbox";
  check.checked = selected;
  const c0 = cell("", "ll-check");
  c0.append(check);
  const color = look?.color(rowId(hit));
  if (color) {
    // The colour the charts draw this run in.
    const sw = h("span", "ll-swatch");
    sw.style.background = color;
    c0.append(sw);
  }
  r.append(c0);
  for (const c of columns) {
    const child = hit.table.getChild(c);
    const v = child?.get(hit.index);
    const d = cell(formatCell(v, child ? DataType.isTimestamp(child.type) : false), "");
    d.dataset.column = c;
    if (look) d.style.flex = flexOf(look.width(c));
    if (c === "state" && v != null) {
      d.textContent = "";
      const badge = h("span", `ll-badge ll-state-${String(v).toLowerCase()}`, String(v).toLowerCase());
      d.append(badge);
    } else if (typeof v === "number" || typeof v === "bigint") {
      d.classList.add("ll-num");
    }
    d.title = d.textContent ?? "";
    r.append(d);
  }
  return r;
}
