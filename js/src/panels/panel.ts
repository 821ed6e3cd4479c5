// One panel of the grid: a title bar (the metric, full width, code, remove), a uPlot canvas
// with axis titles, and the hover tooltip listing every line's value at the cursor's x.

import uPlot from "uplot";
import { h } from "../common";
import type { Lines } from "./lines";
import { straightLines } from "./paths";

/** What a panel asks of the grid. */
export interface PanelActions {
  remove(key: string): void;
  toggleWidth(key: string): void;
}

/** The x axis's title and how its values read. */
export function xTitle(xAxis: string): string {
  return (
    { _step: "step", _timestamp: "time", _runtime: "runtime (s)" }[xAxis] ?? xAxis
  );
}

/** A number as the tooltip shows it: 5 significant digits. */
export function fmt(v: number | null): string {
  if (v === null) return "–";
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(5)));
}

const HEIGHT = 220;
/** The paths of every line drawn (band edges, 0 px wide, are uPlot's own). */
const STRAIGHT = straightLines(uPlot.paths.linear!());
/** Tick spacings of a step axis: 1, 2, 5, 10, 20, 50 ... */
const STEP_INCRS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

export class Panel {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private tooltip: HTMLElement;
  private box: HTMLElement;
  private code: HTMLElement;
  private lines: Lines | null = null;
  private hovering = false;
  private sync: string;

  constructor(
    readonly key: string,
    opts: { code: string; wide: boolean; removable: boolean; sync: string },
    actions: PanelActions,
    private xAxis: string,
  ) {
    this.sync = opts.sync;
    this.element = h("div", "ll-panel");
    this.element.dataset.key = key;
    if (opts.wide) this.element.classList.add("ll-wide");
    const bar = h("div", "ll-panel-bar");
    const title = h("span", "ll-panel-title", key);
    title.title = key;
    const wide = h("button", "ll-panel-wide", opts.wide ? "⇤⇥" : "⇔");
    wide.title = opts.wide ? "Half width" : "Full width";
    wide.addEventListener("click", () => actions.toggleWidth(key));
    const codeBtn = h("button", "ll-panel-code-toggle", "</>");
    codeBtn.title = "The Api call behind this panel";
    const code = h("pre", "ll-panel-code", opts.code);
    code.style.display = "none";
    this.code = code;
    codeBtn.addEventListener("click", () => {
      code.style.display = code.style.display === "none" ? "" : "none";
    });
    const remove = h("button", "ll-panel-remove", "✕");
    remove.title = "Remove this panel";
    remove.disabled = !opts.removable;
    remove.addEventListener("click", () => actions.remove(key));
    bar.append(title, wide, codeBtn, remove);
    this.box = h("div", "ll-panel-plot");
    this.tooltip = h("div", "ll-tooltip");
    this.tooltip.style.display = "none";
    this.box.append(this.tooltip);
    this.box.addEventListener("mouseenter", () => (this.hovering = true));
    this.box.addEventListener("mouseleave", () => {
      this.hovering = false;
      this.tooltip.style.display = "none";
    });
    this.element.append(bar, code, this.box);
  }

  /** The Python source of this panel's read (shown by the code button). */
  setCode(code: string): void {
    if (this.code.textContent !== code) this.code.textContent = code;
  }

  /** Draw `lines`: new data in the plot there is when the lines are drawn alike (as many, as
   * wide, the same bands), their names and colours set in place; else a new plot. Another
   * selection of as many runs so redraws the canvases the panels have. */
  draw(lines: Lines, width: number): void {
    const plot = this.plot;
    const same = plot !== null && this.lines !== null && alike(this.lines, lines);
    this.lines = lines;
    this.element.dataset.points = String(lines.points);
    this.element.dataset.lines = String(lines.hovered.length);
    this.box.classList.toggle("ll-no-points", lines.points === 0);
    if (same && plot) {
      lines.series.forEach((s, i) => {
        if (i === 0) return;
        const stroke = s.stroke ?? "transparent";
        plot.series[i].label = s.label;
        plot.series[i].stroke = typeof stroke === "function" ? stroke : () => stroke;
      });
      plot.setData(lines.data);
      return;
    }
    this.plot?.destroy();
    // uPlot sizes itself in a microtask and measures its box there. Measured while still
    // detached, that costs no layout of the page; attached, it would lay the whole notebook
    // out again once per panel. It measures again when the pointer enters, for the hover.
    this.plot = new uPlot(this.options(lines, width), lines.data, (u, init) => {
      init();
      queueMicrotask(() => {
        if (this.plot === u) this.box.append(u.root);
      });
    });
  }

  private options(lines: Lines, width: number): uPlot.Options {
    this.element.dataset.xTitle = xTitle(this.xAxis);
    this.element.dataset.yTitle = this.key;
    const axis = { stroke: "#555", grid: { stroke: "#eee" }, ticks: { stroke: "#ddd" } };
    return {
      width: Math.max(width, 200),
      height: HEIGHT,
      series: lines.series.map((s, i) =>
        i > 0 && (s.width ?? 1) > 0 && !s.paths ? { ...s, paths: STRAIGHT } : s,
      ),
      bands: lines.bands,
      legend: { show: false },
      scales: { x: { time: this.xAxis === "_timestamp" } },
      axes: [
        {
          ...axis,
          label: xTitle(this.xAxis),
          labelSize: 18,
          size: 34,
          // Steps are whole numbers: no tick at 1.5.
          ...(this.xAxis === "_step" ? { incrs: STEP_INCRS } : {}),
        },
        { ...axis, label: this.key, labelSize: 18, size: 56 },
      ],
      cursor: {
        sync: { key: this.sync, setSeries: false, scales: ["x", null] },
        points: { show: false },
        drag: { x: true, y: false, setScale: true },
      },
      hooks: { setCursor: [(u) => this.hover(u)] },
    };
  }

  /** The tooltip: every line's value at the cursor's x, highest first. */
  private hover(u: uPlot): void {
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (!this.hovering || !this.lines || idx === null || idx === undefined || left < 0) {
      this.tooltip.style.display = "none";
      return;
    }
    const x = u.posToVal(left, "x");
    const rows = this.lines.hovered
      .map((l) => ({ l, v: l.at(x) }))
      .sort((a, b) => (b.v ?? -Infinity) - (a.v ?? -Infinity));
    const head = h("div", "ll-tt-x", `${xTitle(this.xAxis)} ${fmt(Number(u.data[0][idx]))}`);
    const list = rows.map(({ l, v }) => {
      const row = h("div", "ll-tt-row");
      const sw = h("span", "ll-swatch");
      sw.style.background = l.color;
      row.append(sw, h("span", "ll-tt-name", l.label), h("span", "ll-tt-value", fmt(v)));
      return row;
    });
    this.tooltip.replaceChildren(head, ...list);
    this.tooltip.style.display = "";
    // Beside the cursor, on the side with room for it, inside the panel.
    const box = this.box.clientWidth || 400;
    const px = u.over.offsetLeft + left;
    const width = this.tooltip.offsetWidth;
    const at = px + 16 + width <= box ? px + 16 : Math.max(px - 16 - width, 0);
    this.tooltip.style.left = `${at}px`;
  }

  /** Fit the plot to a new width. */
  resize(width: number): void {
    if (this.plot && Math.abs(this.plot.width - width) > 1) {
      this.plot.setSize({ width: Math.max(width, 200), height: HEIGHT });
    }
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

/** Whether two panels' lines are drawn alike but for their names, colours and points: then
 * the plot of the one takes the other's in place. */
export function alike(a: Lines, b: Lines): boolean {
  return (
    a.series.length === b.series.length &&
    a.series.every((s, i) => s.width === b.series[i].width) &&
    JSON.stringify(a.bands) === JSON.stringify(b.bands)
  );
}
