// The bar above the run table: the filter and column toggles, the number of runs, the number
// selected, the "same for all" chip (the config values every run shown shares), the live mark
// with its pause button, and a loading mark while the kernel reads.

import { h } from "../common";

/** `n runs`, `1 run`: a count and its noun, singular for one. */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
}

/** The `_same` trait: the config columns every run shown shares, with their value. */
export interface Same {
  values?: Record<string, string>;
  runs?: number;
}

export class Toolbar {
  readonly element = h("div", "ll-bar");
  readonly error = h("div", "ll-error ll-filter-error");
  readonly filterToggle = h("button", "ll-filter-toggle");
  readonly columnsToggle = h("button", "ll-columns-toggle", "Columns");
  /** The chip that shows the constant config values; `samePanel` lists them. */
  readonly sameChip = h("button", "ll-same-chip");
  readonly samePanel = h("div", "ll-same");
  /** The live mark and its pause / resume button. */
  readonly live = h("span", "ll-live");
  readonly livePause = h("button", "ll-live-pause");
  private readonly total = h("span", "ll-total");
  private readonly selCount = h("span", "ll-selcount");
  private readonly loading = h("span", "ll-busy", "loading…");

  constructor() {
    this.live.append(h("span", "ll-live-dot", "●"), " live ", this.livePause);
    this.element.append(
      this.filterToggle,
      this.columnsToggle,
      this.total,
      this.selCount,
      this.sameChip,
      this.live,
      this.loading,
    );
    this.samePanel.style.display = "none";
    this.sameChip.addEventListener("click", () => {
      this.samePanel.style.display = this.samePanel.style.display === "none" ? "" : "none";
    });
    this.live.style.display = "none";
    this.loading.style.display = "none";
  }

  /** The filter toggle's label: how many conditions the filter has at its top. */
  filterCount(n: number): void {
    this.filterToggle.textContent = n ? `Filter (${n})` : "Filter";
  }

  /** Show the number of runs, how many are selected, and the error (hidden when none). A
   * query that failed has no count: its problem is shown instead. */
  draw(total: number, selected: number, error: string): void {
    this.total.textContent = error ? "" : plural(total, "run");
    this.selCount.textContent = selected ? `${selected} selected` : "";
    this.error.textContent = error ? errorText(error) : "";
    this.error.style.display = error ? "" : "none";
  }

  /** The chip of the config values shared by every run shown, minus those shown as columns. */
  drawSame(same: Same, columns: string[]): void {
    const values = Object.entries(same.values ?? {}).filter(([k]) => !columns.includes(k));
    this.sameChip.style.display = values.length ? "" : "none";
    const runs = same.runs ?? 0;
    this.sameChip.textContent = `${plural(values.length, "key")} same for all`;
    this.sameChip.title = `config values every one of the ${plural(runs, "run")} compared shares`;
    const list = h("dl", "ll-same-list");
    for (const [k, v] of values) list.append(h("dt", "", k), h("dd", "", v));
    this.samePanel.replaceChildren(list);
    if (!values.length) this.samePanel.style.display = "none";
  }

  /** The live mark: shown while runs in the table are running; paused or not. */
  drawLive(running: number, on: boolean): void {
    this.live.style.display = running ? "" : "none";
    this.live.classList.toggle("ll-paused", !on);
    this.live.title = on
      ? `${plural(running, "running run")} in sight, refreshed every few seconds`
      : "live refresh paused";
    this.livePause.textContent = on ? "pause" : "resume";
  }

  /** The loading mark, while the kernel reads a query. */
  busy(on: boolean): void {
    this.loading.style.display = on ? "" : "none";
  }
}

/** The kernel's error as the user reads it: a bad filter is the server's own words. */
export function errorText(error: string): string {
  const bad = /^BadRequest: (.*)$/s.exec(error);
  return bad ? `The filter was not applied: ${bad[1]}` : error;
}
