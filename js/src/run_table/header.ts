// The run table's header: one cell per column showing the order (▼ descending, ▲ ascending);
// clicking a sortable column's cell asks for the next order.

import { h } from "../common";
import { cell } from "./cells";

/** The order field of a column: W&B's `summary_metrics.` for summary columns. */
export function orderField(column: string): string {
  return column.startsWith("summary.") ? `summary_metrics.${column.slice(8)}` : column;
}

/** The next order when a header is clicked: descending first, then ascending, then back. */
export function nextOrder(current: string, column: string): string {
  const f = orderField(column);
  if (current === `-${f}`) return `+${f}`;
  return `-${f}`;
}

/** Whether the table can be ordered by a column (a list of tags cannot). */
export const sortable = (column: string): boolean => column !== "tags";

export class Header {
  readonly element = h("div", "ll-head");

  /** `order()`: the table's order now; `sort(order)`: a header was clicked, the table's
   * order becomes `order`. */
  constructor(
    private readonly order: () => string,
    private readonly sort: (order: string) => void,
  ) {}

  /** Draw the cells of `columns` under the table's order. */
  draw(columns: string[]): void {
    const order = this.order();
    this.element.replaceChildren(cell("", "ll-check ll-h"));
    for (const c of columns) {
      const hc = cell(c, "ll-h");
      hc.dataset.column = c;
      const f = orderField(c);
      if (order === `-${f}`) hc.textContent = `${c} ▼`;
      else if (order === `+${f}` || order === f) hc.textContent = `${c} ▲`;
      if (sortable(c)) {
        hc.classList.add("ll-sortable");
        hc.addEventListener("click", () => this.sort(nextOrder(this.order(), c)));
      }
      this.element.append(hc);
    }
  }
}
