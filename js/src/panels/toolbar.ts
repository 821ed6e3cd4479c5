// The bar above the panels: the metric picker with search (adds a panel), the x axis, the
// smoothing slider, grouping, the legend switch, and the live mark with its pause button.

import { h } from "../common";

/** What the toolbar changes; the grid saves each to the model. */
export interface ToolbarActions {
  add(key: string): void;
  xAxis(x: string): void;
  smoothing(v: number): void;
  groupBy(g: string): void;
  legend(on: boolean): void;
  pause(on: boolean): void;
}

/** The metrics matching a search, those starting with it first; at most `limit`. */
export function matching(metrics: string[], query: string, limit = 50): string[] {
  const q = query.trim().toLowerCase();
  if (!q) return metrics.slice(0, limit);
  const starts = metrics.filter((m) => m.toLowerCase().startsWith(q));
  const within = metrics.filter((m) => !m.toLowerCase().startsWith(q) && m.toLowerCase().includes(q));
  return [...starts, ...within].slice(0, limit);
}

const BUILTIN_X = ["_step", "_timestamp", "_runtime"];

export class Toolbar {
  readonly element = h("div", "ll-bar ll-panels-bar");
  readonly search = h("input", "ll-picker-search");
  readonly list = h("div", "ll-picker-list");
  readonly x = h("select", "ll-x-axis");
  readonly smooth = h("input", "ll-smoothing");
  readonly smoothValue = h("span", "ll-smoothing-value", "0");
  readonly group = h("select", "ll-group-by");
  readonly legend = h("input", "ll-legend-toggle");
  readonly live = h("span", "ll-live", "● live");
  readonly pause = h("button", "ll-pause", "pause");
  readonly status = h("span", "ll-panels-status");
  private metrics: string[] = [];
  private shown = new Set<string>();

  constructor(private actions: ToolbarActions) {
    const picker = h("div", "ll-picker-box");
    this.search.type = "search";
    this.search.placeholder = "Add panel: search metrics…";
    this.list.style.display = "none";
    picker.append(this.search, this.list);
    this.search.addEventListener("focus", () => this.open());
    this.search.addEventListener("input", () => this.open());
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        const first = this.list.querySelector<HTMLElement>(".ll-picker-item:not(.ll-shown)");
        if (first?.dataset.key) this.pick(first.dataset.key);
      } else if (e.key === "Escape") this.close();
    });
    this.search.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.x.addEventListener("change", () => actions.xAxis(this.x.value));
    this.smooth.type = "range";
    this.smooth.min = "0";
    this.smooth.max = "0.99";
    this.smooth.step = "0.01";
    this.smooth.addEventListener("input", () => {
      this.smoothValue.textContent = this.smooth.value;
      actions.smoothing(Number(this.smooth.value));
    });
    this.group.addEventListener("change", () => actions.groupBy(this.group.value));
    this.legend.type = "checkbox";
    this.legend.addEventListener("change", () => actions.legend(this.legend.checked));
    this.pause.addEventListener("click", () => actions.pause(this.pause.textContent === "pause"));
    const label = (text: string, ...parts: (HTMLElement | string)[]) => {
      const l = h("label", "ll-bar-item");
      l.append(text, ...parts);
      return l;
    };
    this.element.append(
      picker,
      label("x ", this.x),
      label("smoothing ", this.smooth, this.smoothValue),
      label("group ", this.group),
      label("", this.legend, " legend"),
      this.live,
      this.pause,
      this.status,
    );
  }

  private open(): void {
    const items = matching(this.metrics, this.search.value).map((m) => {
      const item = h("div", "ll-picker-item", m);
      item.dataset.key = m;
      if (this.shown.has(m)) {
        item.classList.add("ll-shown");
        item.title = "already shown";
      }
      // mousedown, not click: the search box's blur would close the list first.
      item.addEventListener("mousedown", (e) => {
        e.preventDefault();
        this.pick(m);
      });
      return item;
    });
    if (!items.length) items.push(h("div", "ll-picker-empty", "no metric matches"));
    this.list.replaceChildren(...items);
    this.list.style.display = "";
  }

  private close(): void {
    this.list.style.display = "none";
  }

  private pick(key: string): void {
    if (!this.shown.has(key)) this.actions.add(key);
    this.search.value = "";
    this.close();
  }

  /** "3 runs · 4 panels" (nothing without runs). */
  count(runs: number, panels: number): void {
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
    this.status.textContent = runs ? `${n(runs, "run")} · ${n(panels, "panel")}` : "";
  }

  /** Show the model's state. */
  update(s: {
    metrics: string[];
    shown: string[];
    xAxis: string;
    smoothing: number;
    groupBy: string;
    groupOptions: string[];
    legend: boolean;
    live: boolean;
    paused: boolean;
  }): void {
    this.metrics = s.metrics;
    this.shown = new Set(s.shown);
    const xs = [...BUILTIN_X, ...s.metrics.filter((m) => !BUILTIN_X.includes(m))];
    if (!xs.includes(s.xAxis)) xs.push(s.xAxis);
    setOptions(this.x, xs, s.xAxis, { _step: "step", _timestamp: "time", _runtime: "runtime" });
    const groups = ["", ...s.groupOptions];
    if (!groups.includes(s.groupBy)) groups.push(s.groupBy);
    setOptions(this.group, groups, s.groupBy, { "": "none" });
    if (document.activeElement !== this.smooth) this.smooth.value = String(s.smoothing);
    this.smoothValue.textContent = String(s.smoothing);
    this.legend.checked = s.legend;
    this.live.style.display = s.live ? "" : "none";
    this.live.classList.toggle("ll-paused", s.paused);
    this.live.textContent = s.paused ? "● live (paused)" : "● live";
    this.pause.style.display = s.live ? "" : "none";
    this.pause.textContent = s.paused ? "resume" : "pause";
  }
}

function setOptions(
  select: HTMLSelectElement,
  values: string[],
  chosen: string,
  labels: Record<string, string> = {},
): void {
  const now = Array.from(select.options, (o) => o.value).join("\n");
  if (now !== values.join("\n")) {
    select.replaceChildren(
      ...values.map((v) => {
        const o = document.createElement("option");
        o.value = v;
        o.textContent = labels[v] ?? v;
        return o;
      }),
    );
  }
  select.value = chosen;
}
