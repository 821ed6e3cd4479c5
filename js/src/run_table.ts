// RunTable: a virtually scrolled table of runs. Python owns the query (path, filters, order,
// columns) and answers page requests with Arrow IPC buffers; this view keeps only the rows in
// sight in the DOM and asks for the pages it is about to show.
//
// This module is the anywidget entry: it lays the parts out and wires them to the model. The
// parts live in run_table/: toolbar.ts (counts, toggles), header.ts (columns and order),
// column_picker.ts, rows.ts (the rows in sight) with page_cache.ts (the pages held),
// scroll.ts (virtual scrolling), selection.ts (clicking rows) and cells.ts (drawing a row);
// the messages to and from the kernel in messages.ts.

import { FilterBuilder, fieldsFrom } from "./filter_builder";
import { STYLE, type WidgetModel } from "./common";
import type { JsonObject } from "./filter_model";
import type { ProjectFields } from "./fields";
import { ColumnPicker } from "./run_table/column_picker";
import { Header } from "./run_table/header";
import { Rows } from "./run_table/rows";
import { Toolbar } from "./run_table/toolbar";

export { nextOrder, orderField } from "./run_table/header";

/** The synced traits; names match widgets/run_table.py (tests/unit/test_widget_traits.py). */
export interface Model {
  path: string;
  filters: JsonObject;
  order: string;
  columns: string[];
  selected: string[];
  total: number;
  code: string;
  error: string;
  _fields: ProjectFields;
  _project: string;
  _query: number;
  _page_size: number;
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
  const header = new Header(
    () => model.get("order"),
    (o) => save("order", o),
  );
  const rows = new Rows(model, header.element, (s) => save("selected", s));
  toolbar.filterToggle.addEventListener("click", () => {
    builder.element.style.display = builder.element.style.display === "none" ? "" : "none";
  });
  toolbar.columnsToggle.addEventListener("click", () => picker.toggle());
  const style = document.createElement("style");
  style.textContent = STYLE;
  el.classList.add("lablens-widget", "ll-run-table");
  el.replaceChildren(
    style,
    toolbar.element,
    toolbar.error,
    builder.element,
    picker.element,
    header.element,
    rows.scroll.viewport,
  );
  return { toolbar, builder, picker, header, rows };
}

function render({ model, el }: { model: TableModel; el: HTMLElement }): () => void {
  const { toolbar, builder, picker, header, rows } = layout(model, el);
  const cols = () => model.get("columns");
  const fields = () => model.get("_fields") ?? {};
  const drawBar = () => toolbar.draw(model.get("total"), model.get("selected").length, model.get("error"));
  const filterCount = () => toolbar.filterCount(Object.keys(model.get("filters") ?? {}).length);

  const newQuery = (pushed: boolean) => {
    rows.newQuery(pushed);
    header.draw(cols());
    drawBar();
    rows.draw();
  };
  const onMsg = (msg: unknown, buffers: unknown) => {
    if (!rows.receive(msg, buffers)) return; // an answer to an old query
    rows.draw();
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
  };
  model.on("msg:custom", onMsg);
  model.on("change:_query", () => newQuery(true));
  model.on("change:total", onRows);
  model.on("change:_fields", onFields);
  model.on("change:filters", onFilters);
  model.on("change:columns", () => {
    header.draw(cols());
    picker.draw(fields());
  });
  model.on("change:order", () => header.draw(cols()));
  model.on("change:selected", onRows);
  model.on("change:error", drawBar);

  onFields();
  filterCount();
  newQuery(false);
  return () => {
    model.off("msg:custom", onMsg);
    rows.scroll.stop();
  };
}

export default { render };
