// RunTable: a virtually scrolled table of runs. Python owns the query (path, filters, order,
// columns) and answers page requests with Arrow IPC buffers; this view keeps only the rows in
// sight in the DOM and asks for the pages it is about to show.

import { DataType, tableFromIPC, type Table } from "apache-arrow";
import { FilterBuilder, fieldsFrom } from "./filter_builder";
import type { JsonObject } from "./filter_model";
import { h, STYLE, formatCell, type WidgetModel } from "./common";

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
  _fields: { config?: Record<string, string>; summary?: Record<string, string> };
  _project: string;
  _query: number;
  _page_size: number;
}

interface PageMsg {
  type: "page";
  query: number;
  offset: number;
  total: number;
}

const ROW_H = 26;
const VIEW_ROWS = 14;
const SCROLLBAR = 16;
// Pages the kernel sends with every new query (widgets/run_table.py, _PUSHED_PAGES).
const PUSHED_PAGES = 2;
const BASE_COLUMNS = ["name", "state", "tags", "group", "job_type", "created_at", "finished_at", "username", "host", "notes"];

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

class Pages {
  pages = new Map<number, Table>();
  pending = new Set<number>();
  query = -1;

  reset(query: number): void {
    this.pages.clear();
    this.pending.clear();
    this.query = query;
  }
}

function render({ model, el }: { model: WidgetModel<Model>; el: HTMLElement }): () => void {
  el.classList.add("lablens-widget", "ll-run-table");
  const style = document.createElement("style");
  style.textContent = STYLE;
  const bar = h("div", "ll-bar");
  const filterToggle = h("button", "ll-filter-toggle");
  const columnsToggle = h("button", "ll-columns-toggle", "Columns");
  const totalEl = h("span", "ll-total");
  const selEl = h("span", "ll-selcount");
  const errEl = h("div", "ll-error");
  bar.append(filterToggle, columnsToggle, totalEl, selEl);

  const builder = new FilterBuilder((f) => {
    model.set("filters", f);
    model.save_changes();
  });
  builder.element.style.display = "none";
  const picker = h("div", "ll-picker");
  picker.style.display = "none";

  const head = h("div", "ll-head");
  const viewport = h("div", "ll-viewport");
  const spacer = h("div", "ll-spacer");
  const rowsEl = h("div", "ll-rows");
  spacer.append(rowsEl);
  viewport.append(spacer);
  el.replaceChildren(style, bar, errEl, builder.element, picker, head, viewport);

  const pages = new Pages();
  let anchor = -1; // last clicked row, for shift-click ranges

  const cols = () => model.get("columns");
  const pageSize = () => model.get("_page_size") || 100;
  const runPath = (id: string) => `${model.get("_project")}/${id}`;

  function updateFilterLabel(): void {
    const n = Object.keys(model.get("filters") ?? {}).length;
    filterToggle.textContent = n ? `Filter (${n})` : "Filter";
  }

  function drawHead(): void {
    const order = model.get("order");
    head.replaceChildren();
    head.append(cell("", "ll-check ll-h"));
    for (const c of cols()) {
      const h = cell(c, "ll-h");
      h.dataset.column = c;
      const f = orderField(c);
      if (order === `-${f}`) h.textContent = `${c} ▼`;
      else if (order === `+${f}` || order === f) h.textContent = `${c} ▲`;
      if (c !== "tags") {
        h.classList.add("ll-sortable");
        h.addEventListener("click", () => {
          model.set("order", nextOrder(model.get("order"), c));
          model.save_changes();
        });
      }
      head.append(h);
    }
  }

  const cell = (text: string, cls: string): HTMLDivElement => h("div", `ll-cell ${cls}`, text);

  function drawPicker(): void {
    const f = model.get("_fields") ?? {};
    const all = [
      ...BASE_COLUMNS,
      ...Object.keys(f.config ?? {}).map((k) => `config.${k}`),
      ...Object.keys(f.summary ?? {}).map((k) => `summary.${k}`),
    ];
    const shown = new Set(cols());
    picker.replaceChildren();
    for (const name of all) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = shown.has(name);
      box.dataset.column = name;
      box.addEventListener("change", () => {
        const now = cols().filter((c) => c !== name);
        // A column turned on goes where it stands in the full list, not at the end.
        const next = box.checked ? all.filter((c) => now.includes(c) || c === name) : now;
        model.set("columns", next);
        model.save_changes();
      });
      label.append(box, ` ${name}`);
      picker.append(label);
    }
  }

  /** Ask for the pages in [from, to] that are neither here nor on their way, as one range:
   * one message, one Api call in the kernel. */
  function request(from: number, to: number): void {
    const pagesInAll = Math.max(Math.ceil(model.get("total") / pageSize()), 1);
    const missing: number[] = [];
    for (let p = Math.max(from, 0); p <= Math.min(to, pagesInAll - 1); p++) {
      if (!pages.pages.has(p) && !pages.pending.has(p)) missing.push(p);
    }
    if (!missing.length) return;
    const lo = missing[0];
    const hi = missing[missing.length - 1];
    for (let p = lo; p <= hi; p++) pages.pending.add(p);
    model.send({ type: "page", query: pages.query, offset: lo * pageSize(), limit: (hi - lo + 1) * pageSize() });
  }

  function rowAt(i: number): { table: Table; index: number } | null {
    const p = Math.floor(i / pageSize());
    const t = pages.pages.get(p);
    if (!t) return null;
    const index = i - p * pageSize();
    return index < t.numRows ? { table: t, index } : null;
  }

  function drawRows(): void {
    const total = model.get("total");
    spacer.style.height = `${Math.max(total, 0) * ROW_H}px`;
    // A short result takes only the room it needs (and a horizontal scroll bar's).
    viewport.style.height = `${Math.min(Math.max(total, 1), VIEW_ROWS) * ROW_H + SCROLLBAR}px`;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - 2);
    const last = Math.min(total, first + VIEW_ROWS + 4);
    const firstPage = Math.floor(first / pageSize());
    const lastPage = Math.floor(Math.max(last - 1, 0) / pageSize());
    request(firstPage, lastPage + 1); // and the next page: it is usually wanted next
    const selected = new Set(model.get("selected"));
    rowsEl.style.transform = `translateY(${first * ROW_H}px)`;
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const r = h("div", "ll-row");
      r.dataset.index = String(i);
      r.style.height = `${ROW_H}px`;
      const hit = rowAt(i);
      if (!hit) {
        r.classList.add("ll-loading");
        r.append(cell("…", "ll-check"));
        frag.append(r);
        continue;
      }
      const id = String(hit.table.getChild("id")?.get(hit.index) ?? "");
      const path = runPath(id);
      r.dataset.path = path;
      if (selected.has(path)) r.classList.add("ll-selected");
      const check = document.createElement("input");
      check.type = "checkbox";
      check.checked = selected.has(path);
      const c0 = cell("", "ll-check");
      c0.append(check);
      r.append(c0);
      for (const c of cols()) {
        const child = hit.table.getChild(c);
        const v = child?.get(hit.index);
        const d = cell(formatCell(v, child ? DataType.isTimestamp(child.type) : false), "");
        if (c === "state" && v != null) {
          d.textContent = "";
          const badge = h("span", `ll-badge ll-state-${String(v).toLowerCase()}`, String(v).toLowerCase());
          d.append(badge);
        }
        d.title = d.textContent ?? "";
        r.append(d);
      }
      r.addEventListener("click", (ev) => toggle(i, path, ev as MouseEvent));
      frag.append(r);
    }
    rowsEl.replaceChildren(frag);
  }

  function toggle(i: number, path: string, ev: MouseEvent): void {
    const sel = new Set(model.get("selected"));
    if (ev.shiftKey && anchor >= 0) {
      const [a, b] = anchor < i ? [anchor, i] : [i, anchor];
      for (let k = a; k <= b; k++) {
        const hit = rowAt(k);
        if (hit) sel.add(runPath(String(hit.table.getChild("id")?.get(hit.index))));
      }
    } else if (sel.has(path)) {
      sel.delete(path);
    } else {
      sel.add(path);
    }
    anchor = i;
    model.set("selected", Array.from(sel));
    model.save_changes();
  }

  function drawBar(): void {
    const total = model.get("total");
    totalEl.textContent = `${total.toLocaleString()} run${total === 1 ? "" : "s"}`;
    const n = model.get("selected").length;
    selEl.textContent = n ? `${n} selected` : "";
    errEl.textContent = model.get("error");
    errEl.style.display = model.get("error") ? "" : "none";
  }

  /** A new query: drop the old rows. `pushed` when the kernel sends the first pages with it
   * (a query changed while this view is shown), so they are not asked for again. */
  function newQuery(pushed: boolean): void {
    pages.reset(model.get("_query"));
    if (pushed) for (let p = 0; p < PUSHED_PAGES; p++) pages.pending.add(p);
    viewport.scrollTop = 0;
    drawHead();
    drawBar();
    drawRows();
  }

  filterToggle.addEventListener("click", () => {
    builder.element.style.display = builder.element.style.display === "none" ? "" : "none";
  });
  columnsToggle.addEventListener("click", () => {
    picker.style.display = picker.style.display === "none" ? "" : "none";
  });
  let frame = 0;
  // The header and the rows scroll sideways together, whichever of them moved.
  head.addEventListener("scroll", () => {
    if (viewport.scrollLeft !== head.scrollLeft) viewport.scrollLeft = head.scrollLeft;
  });
  viewport.addEventListener("scroll", () => {
    if (head.scrollLeft !== viewport.scrollLeft) head.scrollLeft = viewport.scrollLeft;
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      drawRows();
    });
  });

  const onMsg = (msg: unknown, buffers: unknown) => {
    const m = msg as PageMsg;
    if (m.type !== "page" || m.query !== pages.query) return; // an answer to an old query
    const bufs = buffers as (ArrayBuffer | DataView)[];
    const buf = bufs[0];
    const bytes = buf instanceof DataView ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
    // One answer may hold several pages: keep each apart, as the view reads them.
    const rows = tableFromIPC(bytes);
    const size = pageSize();
    const first = Math.floor(m.offset / size);
    const count = Math.max(Math.ceil(rows.numRows / size), 1);
    for (let k = 0; k < count; k++) {
      pages.pending.delete(first + k);
      pages.pages.set(first + k, rows.slice(k * size, (k + 1) * size));
    }
    drawRows();
    el.dataset.painted = String(performance.now());
  };
  const onFields = () => {
    builder.setFields(fieldsFrom(model.get("_fields") ?? {}));
    builder.show(model.get("filters"));
    drawPicker();
  };
  const onFilters = () => {
    updateFilterLabel();
    // Redraw only when Python set it; the builder already shows what the user typed.
    if (JSON.stringify(builder.read()) !== JSON.stringify(model.get("filters") ?? {})) {
      builder.show(model.get("filters"));
    }
  };
  const onSelected = () => {
    drawBar();
    drawRows();
  };
  model.on("msg:custom", onMsg);
  model.on("change:_query", () => newQuery(true));
  model.on("change:total", () => {
    drawBar();
    drawRows();
  });
  model.on("change:_fields", onFields);
  model.on("change:filters", onFilters);
  model.on("change:columns", () => {
    drawHead();
    drawPicker();
  });
  model.on("change:order", drawHead);
  model.on("change:selected", onSelected);
  model.on("change:error", drawBar);

  onFields();
  updateFilterLabel();
  newQuery(false);
  return () => {
    model.off("msg:custom", onMsg);
    if (frame) cancelAnimationFrame(frame);
  };
}

export default { render };
