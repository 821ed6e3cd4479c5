// MediaPanel: the media of several runs side by side, one column per run (titled with its
// name and colour), at one step; a key picker and a step slider above. Python reads
// everything (widgets/media_panel.py) and sets `_view`; thumbnails and audio come as bytes.
//
// The parts live in media_panel/: toolbar.ts (key picker, slider), cells.ts (a column's
// body by media type), table.ts (a table page), heatmap.ts (histograms over steps),
// viewer.ts (an image at full size), types.ts (what the kernel sends).

import { h, STYLE, type WidgetModel } from "./common";
import { columnBody } from "./media_panel/cells";
import { Toolbar } from "./media_panel/toolbar";
import { Urls, type Column, type Full, type KeyEntry, type View } from "./media_panel/types";
import { Viewer } from "./media_panel/viewer";

export { stepIndex } from "./media_panel/toolbar";

/** The synced traits; names match widgets/media_panel.py (tests/unit/test_widget_traits.py). */
export interface Model {
  runs: string[];
  key: string;
  step: number | null;
  run_colors: Record<string, string>;
  thumb_size: number;
  code: string;
  error: string;
  _keys: KeyEntry[];
  _steps: number[];
  _columns: Column[];
  _view: View;
  _full: Full;
}

export type PanelModel = WidgetModel<Model>;

const LOCAL_STYLE = `
.ll-media-panel { position: relative; min-height: 60px; }
.ll-mp-bar { flex-wrap: wrap; }
.ll-mp-stepbox { display: inline-flex; align-items: center; gap: 4px; }
.ll-mp-slider { width: 220px; }
.ll-mp-step { color: #444; min-width: 110px; }
.ll-mp-grid { display: grid; gap: 8px; overflow-x: auto; align-items: start; }
.ll-mp-col { border: 1px solid #e3e3e3; border-radius: 4px; min-width: 0; }
.ll-mp-head { display: flex; align-items: center; gap: 6px; padding: 4px 6px;
  background: #f6f6f6; border-bottom: 1px solid #e3e3e3; font-weight: 600; }
.ll-mp-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ll-mp-swatch { flex: 0 0 12px; height: 12px; border-radius: 2px; }
.ll-mp-body { padding: 6px; }
.ll-mp-gallery { display: flex; flex-wrap: wrap; gap: 6px; }
.ll-mp-thumb { margin: 0; display: flex; flex-direction: column; align-items: center; }
.ll-mp-thumb img { cursor: zoom-in; border: 1px solid #ddd; background: #fff; }
.ll-mp-thumb img:hover { outline: 2px solid #1a73e8; }
.ll-mp-pixelated { image-rendering: pixelated; }
.ll-mp-caption { font-size: 11px; color: #444; text-align: center; margin-top: 2px; }
.ll-mp-hint { color: #888; padding: 8px 4px; }
.ll-mp-empty { color: #666; padding: 14px 8px; border: 1px dashed #ccc; border-radius: 4px; }
.ll-mp-empty code { background: #f3f3f3; padding: 0 3px; }
.ll-mp-table-wrap { overflow-x: auto; }
.ll-mp-table table { border-collapse: collapse; font-size: 11px; }
.ll-mp-table th, .ll-mp-table td { border-bottom: 1px solid #eee; padding: 2px 3px;
  text-align: right; white-space: nowrap; }
.ll-mp-table th { background: #f6f6f6; }
.ll-mp-pager { display: flex; align-items: center; gap: 4px; margin-top: 4px; }
.ll-mp-rows { color: #666; }
.ll-mp-heat canvas { display: block; }
.ll-mp-readout { font-size: 11px; color: #555; min-height: 15px; }
.ll-mp-text { white-space: pre-wrap; max-height: 240px; overflow: auto; background: #f7f7f7;
  padding: 4px; margin: 0; font-size: 11px; }
.ll-mp-html { width: 100%; height: 200px; border: 1px solid #ddd; background: #fff; }
.ll-mp-video { max-width: 100%; }
.ll-mp-item audio { width: 100%; }
.ll-mp-viewer { position: absolute; inset: 0; background: rgba(30, 30, 30, 0.55); z-index: 10;
  display: flex; align-items: flex-start; justify-content: center; padding-top: 16px;
  outline: none; }
.ll-mp-viewer-card { background: #fff; border-radius: 6px; padding: 8px 12px 10px;
  box-shadow: 0 4px 18px rgba(0, 0, 0, 0.3); max-width: 92%; }
.ll-mp-viewer-head { display: flex; justify-content: space-between; gap: 16px;
  align-items: center; font-weight: 600; margin-bottom: 6px; }
.ll-mp-viewer-frame { overflow: auto; max-height: 70vh; text-align: center; }
.ll-mp-viewer-frame img { border: 1px solid #ddd; }
.ll-mp-viewer-caption { text-align: center; font-size: 13px; margin-top: 4px; }
.ll-mp-viewer-size { text-align: center; color: #777; font-size: 11px; }
`;

/** Why nothing is shown, and what to do about it. */
export function emptyHint(view: View): string {
  if (view.empty === "no-runs") return "No runs selected: select runs in the run table to see the media they logged.";
  if (view.empty === "no-media") {
    return 'These runs logged no media. Log images with run.log({"samples": lablens.Image(array, caption="...")}), tables with lablens.Table, histograms with lablens.Histogram.';
  }
  if (view.empty === "unknown-key") return `No run here logged media under "${view.key}": pick a key above.`;
  return "";
}

/** The smallest width a column takes, by media type (wider ones scroll sideways). */
const MIN_COL: Record<string, number> = { image: 170, table: 264, histogram: 220, html: 260, text: 220 };

function render({ model, el }: { model: PanelModel; el: HTMLElement }): () => void {
  el.classList.add("lablens-widget", "ll-media-panel");
  const style = document.createElement("style");
  style.textContent = STYLE + LOCAL_STYLE;
  const save = <K extends keyof Model>(k: K, v: Model[K]) => {
    model.set(k, v);
    model.save_changes();
  };
  const toolbar = new Toolbar(
    (key) => save("key", key),
    (step) => save("step", step),
  );
  const err = h("div", "ll-error");
  const grid = h("div", "ll-mp-grid");
  const urls = new Urls(); // the current view's; the viewer's are kept until the panel goes
  const viewerUrls = new Urls();
  const viewer = new Viewer(viewerUrls, (px) => {
    el.style.minHeight = px === null ? "" : `${px}px`;
  });
  el.replaceChildren(style, toolbar.element, err, grid, viewer.element);

  const drawBar = () => {
    const view = model.get("_view") ?? {};
    toolbar.drawKeys(model.get("_keys") ?? [], model.get("key"));
    toolbar.drawSteps(model.get("_steps") ?? [], model.get("step"), view.type === "histogram");
    err.textContent = model.get("error");
    err.style.display = model.get("error") ? "" : "none";
  };

  const drawGrid = () => {
    urls.clear();
    const view = model.get("_view") ?? {};
    const columns = model.get("_columns") ?? [];
    grid.dataset.type = view.type ?? "";
    grid.dataset.step = view.step === null || view.step === undefined ? "" : String(view.step);
    if (view.empty || !columns.length || !view.type) {
      const hint = emptyHint(view.empty ? view : { empty: "no-runs" });
      grid.style.gridTemplateColumns = "";
      grid.replaceChildren(h("div", `ll-mp-empty ll-mp-empty-${view.empty ?? "no-runs"}`, hint));
      return;
    }
    const min = MIN_COL[view.type] ?? 200;
    const avail = Math.max(el.clientWidth || 0, 600);
    const width = Math.max(Math.floor((avail - 8 * (columns.length - 1)) / columns.length), min);
    grid.style.gridTemplateColumns = `repeat(${columns.length}, minmax(${min}px, 1fr))`;
    const ctx = {
      urls,
      type: view.type,
      key: view.key ?? "",
      step: view.step ?? null,
      width: width - 14,
      open: (o: Parameters<Viewer["open"]>[0]) => {
        viewer.open(o);
        const full = model.get("_full") ?? {};
        if (full.n === o.n && full.png) viewer.full(full);
        else model.send({ type: "full", n: o.n });
      },
      turn: (run: string, n: number, page: number) => model.send({ type: "page", run, n, page }),
    };
    grid.replaceChildren(
      ...columns.map((col) => {
        const box = h("div", "ll-mp-col");
        box.dataset.run = col.path;
        const head = h("div", "ll-mp-head");
        const swatch = h("span", "ll-mp-swatch");
        swatch.style.background = col.color;
        const name = h("span", "ll-mp-name", col.name);
        name.title = col.path;
        head.append(swatch, name);
        box.append(head, columnBody(col, view.cells?.[col.path], ctx));
        return box;
      }),
    );
    el.dataset.painted = String(performance.now());
  };

  const onView = () => {
    drawBar();
    drawGrid();
  };
  const onFull = () => viewer.full(model.get("_full") ?? {});
  model.on("change:_view", onView);
  model.on("change:_columns", drawGrid);
  model.on("change:_keys", drawBar);
  model.on("change:_steps", drawBar);
  model.on("change:key", drawBar);
  model.on("change:step", drawBar);
  model.on("change:error", drawBar);
  model.on("change:_full", onFull);
  onView();
  return () => {
    urls.clear();
    viewerUrls.clear();
  };
}

export default { render };
