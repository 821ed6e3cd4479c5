// The bar above the run table: the filter and column toggles, the number of runs, the number
// selected, and the kernel's error under it.

import { h } from "../common";

export class Toolbar {
  readonly element = h("div", "ll-bar");
  readonly error = h("div", "ll-error");
  readonly filterToggle = h("button", "ll-filter-toggle");
  readonly columnsToggle = h("button", "ll-columns-toggle", "Columns");
  private readonly total = h("span", "ll-total");
  private readonly selCount = h("span", "ll-selcount");

  constructor() {
    this.element.append(this.filterToggle, this.columnsToggle, this.total, this.selCount);
  }

  /** The filter toggle's label: how many conditions the filter has at its top. */
  filterCount(n: number): void {
    this.filterToggle.textContent = n ? `Filter (${n})` : "Filter";
  }

  /** Show the number of runs, how many are selected, and the error (hidden when none). */
  draw(total: number, selected: number, error: string): void {
    this.total.textContent = `${total.toLocaleString()} run${total === 1 ? "" : "s"}`;
    this.selCount.textContent = selected ? `${selected} selected` : "";
    this.error.textContent = error;
    this.error.style.display = error ? "" : "none";
  }
}
