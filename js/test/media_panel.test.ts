import { tableFromArrays, tableToIPC } from "apache-arrow";
import { describe, expect, it } from "vitest";
import widget, { emptyHint, stepIndex, type Model } from "../src/media_panel";
import { colorOf, layoutRects, valueRange } from "../src/media_panel/heatmap";
import { thumbScale } from "../src/media_panel/cells";
import { zoomOf } from "../src/media_panel/viewer";
import { fakeModel } from "./fake_model";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const COLS = [
  { path: "a/p/r1", id: "r1", name: "first", color: "#636efa" },
  { path: "a/p/r2", id: "r2", name: "second", color: "#ef553b" },
];
const img = (n: number, caption: string) => ({
  n, index: n, caption, width: 32, height: 32, thumb_width: 32, thumb_height: 32,
  png: new DataView(PNG.buffer),
});

const fake = (init: Partial<Model>) =>
  fakeModel<Model>({
    runs: COLS.map((c) => c.path), key: "samples", step: 10, run_colors: {}, thumb_size: 160,
    code: "", error: "",
    _keys: [{ key: "samples", type: "image", runs: 2, count: 6 }, { key: "w", type: "histogram", runs: 2, count: 4 }],
    _steps: [0, 10, 20], _columns: COLS, _view: {}, _full: {}, ...init,
  });

const mount = (init: Partial<Model>) => {
  const f = fake(init);
  const el = document.createElement("div");
  widget.render({ model: f.model, el });
  return { ...f, el };
};

describe("MediaPanel view", () => {
  it("shows each run's thumbnails in its own column, titled with its name and colour", () => {
    const { el } = mount({
      _view: { key: "samples", type: "image", step: 10,
        cells: { "a/p/r1": { items: [img(0, "pred 3 / true 5"), img(1, "pred 1 / true 7")] } } },
    });
    const cols = el.querySelectorAll(".ll-mp-col");
    expect(cols.length).toBe(2);
    expect(cols[0].querySelector(".ll-mp-name")?.textContent).toBe("first");
    expect((cols[1].querySelector(".ll-mp-swatch") as HTMLElement).style.background).toBe("rgb(239, 85, 59)");
    const imgs = cols[0].querySelectorAll("img");
    // The PNG bytes as a URL of their own (a blob URL; a data URL where there are none).
    for (const i of imgs) expect(i.getAttribute("src")).toMatch(/^(blob:|data:image\/png;base64,)/);
    expect(imgs.length).toBe(2);
    expect(imgs[0].width).toBe(64); // a 32 px image shown twice as big, pixelated
    expect(imgs[0].className).toBe("ll-mp-pixelated");
    expect(Array.from(cols[0].querySelectorAll("figcaption"), (c) => c.textContent)).toEqual([
      "pred 3 / true 5", "pred 1 / true 7",
    ]);
    // The run with nothing at this step says so.
    expect(cols[1].querySelector(".ll-mp-hint")?.textContent).toBe("no samples at step 10");
    expect(el.querySelector(".ll-mp-step")?.textContent).toBe("step 10 · 2 of 3");
  });

  it("moves the step over the steps that have media, with the slider and the buttons", () => {
    const { el, state } = mount({ _view: { key: "samples", type: "image", step: 10, cells: {} } });
    (el.querySelector(".ll-mp-next") as HTMLButtonElement).click();
    expect(state.step).toBe(20);
    const slider = el.querySelector(".ll-mp-slider") as HTMLInputElement;
    slider.value = "0";
    slider.dispatchEvent(new Event("input"));
    expect(el.querySelector(".ll-mp-step")?.textContent).toBe("step 0 · 1 of 3");
    slider.dispatchEvent(new Event("change"));
    expect(state.step).toBe(0);
    (el.querySelector(".ll-mp-key") as HTMLSelectElement).value = "w";
    el.querySelector(".ll-mp-key")?.dispatchEvent(new Event("change"));
    expect(state.key).toBe("w");
  });

  it("opens a thumbnail at full size: asks the kernel, then shows its image", () => {
    const { el, sent, model } = mount({
      _view: { key: "samples", type: "image", step: 10, cells: { "a/p/r1": { items: [img(4, "pred 3 / true 5")] } } },
    });
    (el.querySelector("img[data-n='4']") as HTMLElement).click();
    expect(sent).toEqual([{ type: "full", n: 4 }]);
    const viewer = el.querySelector(".ll-mp-viewer") as HTMLElement;
    expect(viewer.style.display).toBe("");
    expect(viewer.dataset.full).toBe("false");
    expect(viewer.querySelector(".ll-mp-viewer-caption")?.textContent).toBe("pred 3 / true 5");
    model.set("_full", { n: 4, width: 32, height: 32, caption: "pred 3 / true 5", png: new DataView(PNG.buffer) });
    expect(viewer.dataset.full).toBe("true");
    expect((viewer.querySelector("img") as HTMLImageElement).style.width).toBe("384px");
    viewer.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(viewer.style.display).toBe("none");
  });

  it("pages a table through the kernel", () => {
    const arrow = tableToIPC(tableFromArrays({ true: Int32Array.from([0, 1]), p0: Int32Array.from([44, 2]) }));
    const { el, sent } = mount({
      _view: { key: "c", type: "table", step: 10, cells: { "a/p/r2": { items: [
        { n: 7, caption: null, columns: ["true", "p0"], total: 45, page: 0, pages: 3, arrow },
      ] } } },
    });
    const rows = el.querySelectorAll(".ll-mp-table tr");
    expect(Array.from(rows[0].children, (c) => c.textContent)).toEqual(["true", "p0"]);
    expect(Array.from(rows[1].children, (c) => c.textContent)).toEqual(["0", "44"]);
    expect(el.querySelector(".ll-mp-rows")?.textContent).toBe("rows 1–2 of 45");
    (el.querySelector(".ll-mp-page-next") as HTMLButtonElement).click();
    expect(sent).toEqual([{ type: "page", run: "a/p/r2", n: 7, page: 1 }]);
  });

  it("shows HTML in a sandboxed frame, text as text", () => {
    const { el, model } = mount({
      _view: { key: "p", type: "html", step: 0, cells: { "a/p/r1": { items: [
        { n: 0, caption: null, format: "html", meta: {}, text: "<script>alert(1)</script>" },
      ] } } },
    });
    const frame = el.querySelector("iframe") as HTMLIFrameElement;
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.srcdoc).toBe("<script>alert(1)</script>");
    model.set("_view", { key: "t", type: "text", step: 0, cells: { "a/p/r1": { items: [
      { n: 0, caption: null, format: "txt", meta: {}, text: "<b>x</b>" },
    ] } } });
    expect(el.querySelector(".ll-mp-text")?.textContent).toBe("<b>x</b>");
    expect(el.querySelector(".ll-mp-body b")).toBeNull();
  });

  it("hides the slider for histograms and says why a panel is empty", () => {
    const { el, model } = mount({
      _view: { key: "w", type: "histogram", step: null, cells: { "a/p/r1": {
        steps: [0, 10], counts: [[1, 2], [0, 5]], edges: [[0, 1, 2], [0, 2, 4]] } } },
    });
    expect((el.querySelector(".ll-mp-stepbox") as HTMLElement).style.display).toBe("none");
    const canvas = el.querySelector(".ll-mp-col canvas") as HTMLCanvasElement;
    expect(canvas.dataset.steps).toBe("2");
    expect(canvas.dataset.rects).toBe("3"); // an empty bin is not drawn
    model.set("_view", { empty: "no-media" });
    expect(el.querySelector(".ll-mp-empty")?.textContent).toContain("logged no media");
    model.set("_view", { empty: "no-runs" });
    expect(el.querySelector(".ll-mp-empty")?.textContent).toContain("select runs");
  });
});

describe("media panel parts", () => {
  it("finds the step shown among the stops", () => {
    expect(stepIndex([0, 10, 20], null)).toBe(2);
    expect(stepIndex([0, 10, 20], 12)).toBe(1);
    expect(stepIndex([], 3)).toBe(-1);
  });

  it("lays a heat map out by step and value", () => {
    const hist = { steps: [0, 1], counts: [[2, 4], [4, 0]], edges: [[0, 1, 2], [0, 2, 4]] };
    expect(valueRange(hist.edges)).toEqual([0, 4]);
    const rects = layoutRects(hist, 100, 40);
    expect(rects.map((r) => [r.i, r.j, r.x, r.y, r.w, r.h])).toEqual([
      [0, 0, 0, 30, 50, 10],
      [0, 1, 0, 20, 50, 10],
      [1, 0, 50, 20, 50, 20],
    ]);
    expect(rects[1].color).toBe(colorOf(1));
    expect(rects[0].color).toBe(colorOf(0.5));
    expect(colorOf(0)).toBe("rgb(68, 1, 84)");
    expect(colorOf(2)).toBe("rgb(253, 231, 37)");
  });

  it("enlarges small images by whole factors", () => {
    expect(thumbScale(32, 32)).toBe(2);
    expect(thumbScale(160, 107)).toBe(1);
    expect(zoomOf(32, 32)).toBe(12);
    expect(zoomOf(800, 600)).toBe(1);
    expect(emptyHint({})).toBe("");
  });
});
