// The run table's header: one cell per column showing the order (▼ descending, ▲ ascending).
// Clicking a sortable column's cell asks for the next order; dragging its right edge resizes
// it; dragging the cell onto another moves the column there.

import { h } from "../common";
import { cell } from "./cells";
import { MIN_W, flexOf, type Widths } from "./widths";

/** The order field of a column: its own name (`summary.val/acc`, as the filters say too). */
export function orderField(column: string): string {
  return column;
}

/** The spellings of a column's field in an order: W&B's `summary_metrics.` is the same field
 * as `summary.` (an order set from Python may use either). */
function spellings(column: string): string[] {
  return column.startsWith("summary.") ? [column, `summary_metrics.${column.slice(8)}`] : [column];
}

/** How the table is ordered by `column` now: "desc", "asc" or null. */
export function orderOf(order: string, column: string): "asc" | "desc" | null {
  for (const f of spellings(column)) {
    if (order === `-${f}`) return "desc";
    if (order === `+${f}` || order === f) return "asc";
  }
  return null;
}

/** The next order when a header is clicked: descending first, then ascending, then back. */
export function nextOrder(current: string, column: string): string {
  const f = orderField(column);
  return orderOf(current, column) === "desc" ? `+${f}` : `-${f}`;
}

/** Whether the table can be ordered by a column (a list of tags cannot). */
export const sortable = (column: string): boolean => column !== "tags";

/** `columns` with `moved` put before (or after) `target`. */
export function moveColumn(columns: string[], moved: string, target: string, after: boolean): string[] {
  if (moved === target) return columns;
  const rest = columns.filter((c) => c !== moved);
  const at = rest.indexOf(target);
  if (at < 0) return columns;
  rest.splice(after ? at + 1 : at, 0, moved);
  return rest;
}

/** A key as a header shows it: on two lines at most, broken after a `/`, `_`, `.` or `-`
 * (a `<wbr>`, which adds no text) rather than inside a word. */
function keyLabel(key: string): HTMLElement {
  const span = h("span", "ll-h-key");
  for (const part of key.split(/(?<=[/_.-])/)) {
    if (span.childNodes.length) span.append(document.createElement("wbr"));
    span.append(part);
  }
  return span;
}

/** What the header tells the table. */
export interface HeaderActions {
  /** A header was clicked: the table's order becomes `order`. */
  sort: (order: string) => void;
  /** A column's edge was dragged to `width` pixels (sent when the drag ends). */
  resize: (column: string, width: number) => void;
  /** A column was dragged to another place: the columns in their new order. */
  reorder: (columns: string[]) => void;
}

export class Header {
  readonly element = h("div", "ll-head");
  private resizing = false;
  private dragged = "";

  /** `order()`: the table's order now; `widths`: each column's width. */
  constructor(
    private readonly order: () => string,
    private readonly sortOrActions: ((order: string) => void) | HeaderActions,
    private readonly widths?: Widths,
  ) {}

  private get actions(): HeaderActions {
    const a = this.sortOrActions;
    return typeof a === "function" ? { sort: a, resize: () => undefined, reorder: () => undefined } : a;
  }

  /** Draw the cells of `columns` under the table's order. */
  draw(columns: string[]): void {
    const order = this.order();
    this.element.replaceChildren(cell("", "ll-check ll-h"));
    for (const c of columns) {
      const hc = cell("", "ll-h");
      hc.dataset.column = c;
      hc.title = c;
      // "summary." / "config." over the key, so the key reads in a narrow column.
      const dot = c.indexOf(".");
      if (dot > 0 && (c.startsWith("summary.") || c.startsWith("config."))) {
        hc.append(h("span", "ll-h-prefix", c.slice(0, dot + 1)), keyLabel(c.slice(dot + 1)));
      } else {
        hc.append(keyLabel(c));
      }
      const dir = orderOf(order, c);
      if (dir) hc.lastElementChild?.append(dir === "desc" ? " ▼" : " ▲");
      if (this.widths) hc.style.flex = flexOf(this.widths.of(c));
      if (sortable(c)) {
        hc.classList.add("ll-sortable");
        hc.addEventListener("click", () => {
          if (this.resizing) return; // the click that ends a resize is not a sort
          this.actions.sort(nextOrder(this.order(), c));
        });
      }
      if (this.widths) {
        hc.append(this.resizeHandle(hc, c));
        this.dragToMove(hc, c, columns);
      }
      this.element.append(hc);
    }
  }

  /** The grip on a header cell's right edge: dragging it sets the column's width. */
  private resizeHandle(hc: HTMLElement, column: string): HTMLElement {
    const grip = h("span", "ll-resize");
    grip.title = "drag to resize";
    grip.addEventListener("click", (ev) => ev.stopPropagation());
    grip.addEventListener("mousedown", (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      hc.draggable = false;
      this.resizing = true;
      const x0 = ev.clientX;
      const w0 = hc.getBoundingClientRect().width || (this.widths?.of(column) ?? 100);
      let w = w0;
      const move = (e: MouseEvent) => {
        w = Math.max(MIN_W, Math.round(w0 + e.clientX - x0));
        hc.style.flex = flexOf(w);
        // The cells of the rows follow while dragging.
        const rows = this.element.parentElement?.querySelectorAll<HTMLElement>(
          `.ll-row > .ll-cell[data-column="${CSS.escape(column)}"]`,
        );
        rows?.forEach((d) => (d.style.flex = flexOf(w)));
      };
      const up = () => {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
        hc.draggable = true;
        // Let the click that follows this mouseup pass before sorting works again.
        setTimeout(() => (this.resizing = false), 0);
        if (w !== w0) this.actions.resize(column, w);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    });
    return grip;
  }

  /** Drag a header cell onto another to move its column there. */
  private dragToMove(hc: HTMLElement, column: string, columns: string[]): void {
    hc.draggable = true;
    hc.addEventListener("dragstart", (ev) => {
      this.dragged = column;
      ev.dataTransfer?.setData("text/plain", column);
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
    });
    hc.addEventListener("dragover", (ev) => {
      if (!this.dragged) return;
      ev.preventDefault();
      hc.classList.add("ll-drop");
    });
    hc.addEventListener("dragleave", () => hc.classList.remove("ll-drop"));
    hc.addEventListener("dragend", () => (this.dragged = ""));
    hc.addEventListener("drop", (ev) => {
      ev.preventDefault();
      hc.classList.remove("ll-drop");
      const moved = this.dragged || ev.dataTransfer?.getData("text/plain") || "";
      this.dragged = "";
      if (!moved || moved === column) return;
      const box = hc.getBoundingClientRect();
      const after = ev.clientX > box.left + box.width / 2;
      this.actions.reorder(moveColumn(columns, moved, column, after));
    });
  }
}
