// PanelGrid: one panel per metric in titled, collapsible sections, drawn with uPlot on canvas.
// Python sends every panel's points in one message as two Float64 buffers; the parts are in
// panels/ (series held, each panel's lines, the panel, toolbar, legend, live poll).

import uPlotCss from "uplot/dist/uPlot.min.css";
import { STYLE, h, type WidgetModel } from "./common";
import { fillLegend } from "./panels/legend";
import { buildLines } from "./panels/lines";
import { Poller } from "./panels/live";
import { Panel } from "./panels/panel";
import { decode, Store, type SeriesIndex } from "./panels/series";
import { PANELS_STYLE } from "./panels/style";
import { Toolbar } from "./panels/toolbar";

/** The synced traits; names match widgets/panel_grid.py (tests/unit/test_widget_traits.py). */
export interface Model {
  runs: string[];
  panels: string[];
  x_axis: string;
  smoothing: number;
  samples: number;
  group_by: string;
  full_width: string[];
  legend: boolean;
  run_colors: Record<string, string>;
  live: boolean;
  paused: boolean;
  poll_interval: number;
  collapsed: string[];
  code: string;
  error: string;
  _sections: { title: string; keys: string[] }[];
  _metrics: string[];
  _names: Record<string, string>;
  _colors: Record<string, string>;
  _groups: Record<string, string>;
  _group_colors: Record<string, string>;
  _group_options: string[];
  _codes: Record<string, string>;
  _version: number;
}

export type GridModel = WidgetModel<Model>;

/** A data message from Python: all the points, or those new since the last. */
type DataMessage = {
  type: "data";
  mode: "full" | "append";
  version: number;
  x_axis: string;
  series: SeriesIndex[];
};
let gridCount = 0; // each grid's panels share a cursor, and no other grid's

/** The grid view: state, parts and drawing, wired to the model. */
export class GridView {
  readonly store = new Store();
  readonly toolbar: Toolbar;
  readonly error = h("div", "ll-error");
  readonly legend = h("div", "ll-legend");
  readonly body = h("div", "ll-panel-body");
  readonly panels = new Map<string, Panel>();
  readonly poller: Poller;
  private xAxis = "_step";
  private received = false;
  /** The `_version` of the points held: state of a later version waits for its points. */
  private dataVersion = 0;
  private sync = `lablens-panels-${++gridCount}`;
  drawn = 0;

  constructor(
    private model: GridModel,
    readonly el: HTMLElement,
  ) {
    const save = <K extends keyof Model>(k: K, v: Model[K]) => this.save(k, v);
    this.toolbar = new Toolbar({
      add: (key) => save("panels", [...this.shown(), key]),
      xAxis: (x) => save("x_axis", x),
      smoothing: (v) => save("smoothing", v),
      groupBy: (g) => save("group_by", g),
      legend: (on) => save("legend", on),
      pause: (on) => save("paused", on),
    });
    this.poller = new Poller(
      () => model.send({ type: "poll" }),
      () => model.get("live") && !model.get("paused"),
    );
    const style = document.createElement("style");
    style.textContent = STYLE + PANELS_STYLE + uPlotCss;
    el.classList.add("lablens-widget", "ll-panel-grid");
    el.replaceChildren(style, this.toolbar.element, this.error, this.legend, this.body);
  }

  /** The metrics with a panel, in section order. */
  shown(): string[] {
    return this.model.get("_sections").flatMap((s) => s.keys);
  }

  /** A message from Python: points (all, or those new since the last), or a poll's answer. */
  onMessage(msg: { type: string }, buffers: (ArrayBuffer | ArrayBufferView)[] = []): void {
    if (msg.type === "polled") {
      this.poller.answered();
      return;
    }
    if (msg.type !== "data") return;
    // When the points came in: the benchmark splits the kernel's part from the page's.
    this.el.dataset.receivedAt = String(performance.timeOrigin + performance.now());
    const data = msg as DataMessage;
    const series = decode(data.series, buffers[0], buffers[1]);
    if (data.mode === "full") this.store.reset(series);
    else this.store.append(series);
    this.xAxis = data.x_axis;
    this.received = true;
    this.dataVersion = data.version;
    if (data.mode === "append") this.poller.answered();
    this.schedule(data.mode === "full");
  }

  private scheduled = false;
  private relayout = false;

  /** Render once in the next frame, however many changes arrive before it: one read sends
   * its state and then its points, and each would otherwise rebuild every panel. State of a
   * newer version than the points held waits for them (they follow it). */
  schedule(layout: boolean): void {
    this.relayout ||= layout;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (this.received && this.model.get("_version") > this.dataVersion) return;
      const full = this.relayout;
      this.relayout = false;
      this.render(!full);
    });
  }

  /** Draw everything (or, for live points, new data in the panels there are). */
  render(dataOnly = false): void {
    const m = this.model;
    this.error.textContent = m.get("error");
    this.toolbar.update({
      metrics: m.get("_metrics"),
      shown: this.shown(),
      xAxis: m.get("x_axis"),
      smoothing: m.get("smoothing"),
      groupBy: m.get("group_by"),
      groupOptions: m.get("_group_options"),
      legend: m.get("legend"),
      live: m.get("live"),
      paused: m.get("paused"),
    });
    const runs = m.get("runs");
    this.toolbar.count(runs.length, this.shown().length);
    this.drawLegend();
    if (!dataOnly) this.layout();
    const style = {
      runs,
      names: m.get("_names"),
      colors: m.get("_colors"),
      smoothing: m.get("smoothing"),
      groups: m.get("group_by") ? m.get("_groups") : {},
      groupColors: m.get("_group_colors"),
    };
    // Every width is read before the first plot is drawn: a read after a plot's DOM writes
    // makes the browser lay the whole page out again, once per panel (in JupyterLab, tens of
    // milliseconds each).
    const drawn = [...this.panels].filter(([, p]) => dataOnly || p.element.isConnected);
    const widths = drawn.map(([, p]) => this.widthOf(p));
    drawn.forEach(([key, panel], i) => {
      panel.draw(buildLines(this.store.of(key, runs), style), widths[i]);
    });
    this.drawn++;
    requestAnimationFrame(() => {
      this.el.dataset.drawn = String(this.drawn);
      this.el.dataset.drawnAt = String(performance.timeOrigin + performance.now());
    });
  }

  private drawLegend(): void {
    const m = this.model;
    const items: [string, string][] = m.get("group_by")
      ? Object.entries(m.get("_group_colors"))
      : m.get("runs").map((r) => [m.get("_names")[r] ?? r, m.get("_colors")[r] ?? "#888"]);
    fillLegend(this.legend, m.get("legend") ? items : []);
  }

  private laidOut = "";

  /** Sections and empty panels, in the model's order; kept as they are when nothing they show
   * changed: new points, or other runs, only redraw the plots (and set each panel's code). */
  private layout(): void {
    const m = this.model;
    const shape = JSON.stringify([
      m.get("runs").length > 0,
      this.received,
      m.get("_sections"),
      m.get("full_width"),
      m.get("collapsed"),
      this.xAxis,
    ]);
    if (shape === this.laidOut) {
      const codes = m.get("_codes");
      for (const [key, panel] of this.panels) panel.setCode(codes[key] ?? "");
      return;
    }
    this.laidOut = shape;
    for (const p of this.panels.values()) p.destroy();
    this.panels.clear();
    if (!m.get("runs").length) {
      this.body.replaceChildren(h("div", "ll-hint", "Select runs in the table to plot them."));
      return;
    }
    if (!this.received) {
      this.body.replaceChildren(h("div", "ll-hint ll-loading", "Loading…"));
      return;
    }
    if (!this.shown().length) {
      this.body.replaceChildren(
        h("div", "ll-hint", "These runs have logged no metrics yet: add a panel above."),
      );
      return;
    }
    const collapsed = new Set(m.get("collapsed"));
    const wide = new Set(m.get("full_width"));
    const removable = this.shown().length > 1;
    const sections = m.get("_sections").map(({ title, keys }) => {
      const section = h("div", "ll-section");
      section.dataset.section = title;
      const head = h("div", "ll-section-head", `${collapsed.has(title) ? "▸" : "▾"} ${title}`);
      head.append(h("span", "ll-count", String(keys.length)));
      head.addEventListener("click", () => {
        const now = new Set(m.get("collapsed"));
        if (now.has(title)) now.delete(title);
        else now.add(title);
        m.set("collapsed", [...now]);
        m.save_changes();
      });
      section.append(head);
      if (collapsed.has(title)) return section;
      const grid = h("div", "ll-panels");
      for (const key of keys) {
        const panel = new Panel(
          key,
          { code: m.get("_codes")[key] ?? "", wide: wide.has(key), removable, sync: this.sync },
          {
            remove: (k) => this.save("panels", this.shown().filter((x) => x !== k)),
            toggleWidth: (k) => {
              const now = new Set(m.get("full_width"));
              if (now.has(k)) now.delete(k);
              else now.add(k);
              this.save("full_width", [...now]);
            },
          },
          this.xAxis,
        );
        this.panels.set(key, panel);
        grid.append(panel.element);
      }
      section.append(grid);
      return section;
    });
    this.body.replaceChildren(...sections);
  }

  private save<K extends keyof Model>(k: K, v: Model[K]): void {
    this.model.set(k, v);
    this.model.save_changes();
  }

  /** The width a panel's plot gets: its box's, less the padding. */
  widthOf(panel: Panel): number {
    const w = panel.element.clientWidth;
    return w > 0 ? w - 14 : 400;
  }

  resize(): void {
    const panels = [...this.panels.values()];
    const widths = panels.map((p) => this.widthOf(p)); // all reads first, as in render
    panels.forEach((p, i) => p.resize(widths[i]));
  }
}

function render({ model, el }: { model: GridModel; el: HTMLElement }): () => void {
  const view = new GridView(model, el);
  const onMsg = (msg: { type: string }, buffers: (ArrayBuffer | ArrayBufferView)[]) =>
    view.onMessage(msg, buffers);
  model.on("msg:custom", onMsg);
  const redraw = () => view.schedule(true);
  const restyle = () => view.schedule(false);
  const events = [
    "change:_sections change:runs change:full_width change:collapsed change:_codes",
    "change:group_by change:_groups change:_group_colors",
  ];
  for (const e of events) model.on(e, redraw);
  const light = "change:smoothing change:_colors change:_names change:legend change:error";
  model.on(light, restyle);
  model.on("change:live change:paused change:_metrics", restyle);
  let frame = 0;
  const resize = new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => view.resize());
  });
  resize.observe(el);
  view.poller.start(el, model.get("poll_interval"));
  view.render();
  model.send({ type: "ready" }); // the points, for a view shown after the last read
  return () => {
    view.poller.stop();
    resize.disconnect();
    for (const p of view.panels.values()) p.destroy();
    model.off("msg:custom", onMsg);
  };
}

export default { render };
