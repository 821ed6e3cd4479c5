// RunTable: a virtually scrolled table of runs. Python owns the query (path, filters, order,
// columns) and answers page requests with Arrow IPC buffers; this view keeps only the rows in
// sight in the DOM and asks for the pages it is about to show.
//
// This module is the anywidget entry: it lays the parts out and wires them to the model. The
// parts live in run_table/: toolbar.ts (counts, toggles, "same for all", live mark), header.ts
// (columns: order, resize, reorder) with widths.ts, column_picker.ts, rows.ts (the rows in
// sight) with page_cache.ts (the pages held), scroll.ts (virtual scrolling), selection.ts
// (clicking rows), cells.ts (drawing a row), live.ts (refreshing running runs), empty.ts (what
// the table says when it has no rows); the messages to and from the kernel in messages.ts.

import { FilterBuilder, fieldsFrom } from "./filter_builder";
import { STYLE, type WidgetModel } from "./common";
import type { JsonObject } from "./filter_model";
import type { ProjectFields } from "./fields";
import { ColumnPicker } from "./run_table/column_picker";
import { emptyText } from "./run_table/empty";
import { Header } from "./run_table/header";
import { Live } from "./run_table/live";
import { Rows } from "./run_table/rows";
import { Toolbar, type Same } from "./run_table/toolbar";
import { Widths } from "./run_table/widths";
import { h } from "./common";

export { nextOrder, orderField } from "./run_table/header";

/** The synced traits; names match widgets/run_table.py (tests/unit/test_widget_traits.py). */
export interface Model {
  path: string;
  filters: JsonObject;
  order: string;
  columns: string[];
  selected: string[];
  column_widths: Record<string, number>;
  run_colors: Record<string, string>;
  live: boolean;
  total: number;
  code: string;
  error: string;
  _fields: ProjectFields;
  _project: string;
  _query: number;
  _page_size: number;
  _same: Same;
  _loading: boolean;
}

/** The run table's model as its view and its parts use it. */
export type TableModel = WidgetModel<Model>;

/** The table's parts, each wired to the model; laid out in `el`. */
function layout(model: TableModel, el: HTMLElement) {
  const save = <K extends keyof Model>(k: K, v: Model[K]) => {
    model.set(k, v);
    model.save_changes();
  };
  const toolbar = new Toolbar();
  const builder = new FilterBuilder((f) => save("filters", f));
  builder.element.style.display = "none";
  const picker = new ColumnPicker(
    () => model.get("columns"),
    (c) => save("columns", c),
  );
  const widths = new Widths(() => model.get("column_widths") ?? {});
  const header = new Header(
    () => model.get("order"),
    {
      sort: (o) => save("order", o),
      resize: (c, w) => save("column_widths", { ...(model.get("column_widths") ?? {}), [c]: w }),
      reorder: (cols) => save("columns", cols),
    },
    widths,
  );
  const rows = new Rows(model, header.element, (s) => save("selected", s), {
    width: (c) => widths.of(c),
    color: (id) => (model.get("run_colors") ?? {})[id],
  });
  const empty = h("div", "ll-empty");
  toolbar.filterToggle.addEventListener("click", () => {
    builder.element.style.display = builder.element.style.display === "none" ? "" : "none";
  });
  toolbar.columnsToggle.addEventListener("click", () => picker.toggle());
  toolbar.livePause.addEventListener("click", () => save("live", !model.get("live")));
  const style = document.createElement("style");
  style.textContent = STYLE;
  el.classList.add("lablens-widget", "ll-run-table");
  el.replaceChildren(
    style,
    toolbar.element,
    toolbar.samePanel,
    builder.element,
    // The kernel's error right under the filter it is about.
    toolbar.error,
    picker.element,
    header.element,
    rows.scroll.viewport,
    empty,
  );
  return { toolbar, builder, picker, header, rows, widths, empty, save };
}

/** Mark the condition rows of the field a filter error names (`field: filters.<f>.$op`). */
function markBadField(builder: FilterBuilder, error: string): void {
  for (const row of builder.element.querySelectorAll<HTMLElement>(".ll-cond")) {
    row.classList.remove("ll-invalid");
  }
  const m = /\(field: filters\.(.+?)(?:\.\$\w+)*\)\s*$/.exec(error);
  if (!m) return;
  for (const row of builder.element.querySelectorAll<HTMLElement>(".ll-cond")) {
    const field = row.querySelector<HTMLSelectElement>(".ll-field")?.value;
    if (field === m[1]) row.classList.add("ll-invalid");
  }
}

function render({ model, el }: { model: TableModel; el: HTMLElement }): () => void {
  const { toolbar, builder, picker, header, rows, widths, empty, save } = layout(model, el);
  const cols = () => model.get("columns");
  const fields = () => model.get("_fields") ?? {};
  // A change the user made is on its way to the kernel: loading until the query comes back.
  let asked = false;
  const drawBusy = () => toolbar.busy(asked || Boolean(model.get("_loading")));
  const drawEmpty = () => {
    const text = emptyText({
      project: model.get("_project"),
      total: model.get("total"),
      filters: model.get("filters") ?? {},
      error: model.get("error"),
      loading: asked || Boolean(model.get("_loading")),
    });
    empty.replaceChildren();
    if (text) {
      empty.append(h("span", "", text));
      if (Object.keys(model.get("filters") ?? {}).length && !model.get("error")) {
        const clear = h("button", "ll-clear-filter", "clear the filter");
        clear.addEventListener("click", () => {
          builder.show({});
          asked = true;
          save("filters", {});
          drawBusy();
        });
        empty.append(" ", clear);
      }
    }
    empty.style.display = text ? "" : "none";
    // No rows: the empty line takes the place of the blank viewport.
    rows.scroll.viewport.style.display = model.get("total") ? "" : "none";
  };
  const drawLive = () => toolbar.drawLive(rows.runningRange()?.count ?? 0, Boolean(model.get("live")));
  const drawBar = () => {
    toolbar.draw(model.get("total"), model.get("selected").length, model.get("error"));
    toolbar.drawSame(model.get("_same") ?? {}, cols());
    drawBusy();
    drawEmpty();
  };
  const filterCount = () => toolbar.filterCount(Object.keys(model.get("filters") ?? {}).length);
  const live = new Live(el, {
    on: () => Boolean(model.get("live")),
    running: () => rows.runningRange(),
    query: () => rows.pages.query,
    send: (msg) => model.send(msg),
  });

  const newQuery = (pushed: boolean) => {
    asked = false;
    live.answered();
    rows.newQuery(pushed);
    header.draw(cols());
    drawBar();
    rows.draw();
  };
  const onMsg = (msg: unknown, buffers: unknown) => {
    if ((msg as { type?: string }).type === "refresh") live.answered();
    if (!rows.receive(msg, buffers)) return; // an answer to an old query
    // The name column fits the longest name read so far.
    if (widths.fit(rows.lastRead?.getChild("name")?.toArray() ?? [])) header.draw(cols());
    rows.draw();
    drawLive();
    el.dataset.painted = String(performance.now());
  };
  const onFields = () => {
    builder.setFields(fieldsFrom(fields()));
    builder.show(model.get("filters"));
    picker.draw(fields());
  };
  const onFilters = () => {
    filterCount();
    // Redraw only when Python set it; the builder already shows what the user typed.
    if (JSON.stringify(builder.read()) !== JSON.stringify(model.get("filters") ?? {})) {
      builder.show(model.get("filters"));
    }
  };
  const onRows = () => {
    drawBar();
    rows.draw();
    drawLive();
  };
  const onError = () => {
    asked = false;
    const error = model.get("error");
    if (error && Object.keys(model.get("filters") ?? {}).length) {
      builder.element.style.display = ""; // the message sits under the filter it is about
    }
    markBadField(builder, error);
    drawBar();
  };
  // What the user changes in the view starts a query: loading until it is answered.
  const userChange = () => {
    asked = true;
    drawBusy();
  };
  for (const k of ["filters", "order"] as const) model.on(`change:${k}`, userChange);
  model.on("msg:custom", onMsg);
  model.on("change:_query", () => newQuery(true));
  model.on("change:total", onRows);
  model.on("change:_fields", onFields);
  model.on("change:filters", onFilters);
  model.on("change:columns", () => {
    header.draw(cols());
    picker.draw(fields());
    toolbar.drawSame(model.get("_same") ?? {}, cols());
  });
  model.on("change:order", () => header.draw(cols()));
  model.on("change:selected", onRows);
  model.on("change:error", onError);
  model.on("change:_loading", drawBar);
  model.on("change:_same", drawBar);
  model.on("change:live", drawLive);
  model.on("change:run_colors", () => rows.draw());
  model.on("change:column_widths", () => {
    header.draw(cols());
    rows.draw();
  });
  model.on("change:_project", () => widths.reset());

  onFields();
  filterCount();
  newQuery(false);
  return () => {
    model.off("msg:custom", onMsg);
    rows.scroll.stop();
    live.stop();
  };
}

export default { render };
