import { describe, expect, it, vi } from "vitest";

// What jsdom lacks and uPlot or the view reads when loaded: the page's pixel ratio query and
// resize observers. The drawing itself is checked in a real browser (tests/browser).
vi.hoisted(() => {
  const mm = () => ({ matches: false, addEventListener() {}, removeEventListener() {} });
  (window as unknown as { matchMedia: unknown }).matchMedia = mm;
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe() {}
    disconnect() {}
  };
});
import widget, { type Model } from "../src/panel_grid";
import { fakeModel } from "./fake_model";

function fake(init: Partial<Model>) {
  return fakeModel<Model>({
    runs: [], panels: [], x_axis: "_step", smoothing: 0, samples: 500, group_by: "",
    full_width: [], legend: true, run_colors: {}, live: false, paused: false,
    poll_interval: 2, collapsed: [], code: "", error: "", _sections: [], _metrics: [],
    _names: {}, _colors: {}, _groups: {}, _group_colors: {}, _group_options: [], _codes: {},
    _version: 0,
    ...init,
  });
}

describe("PanelGrid view", () => {
  it("shows a hint, not an empty plot, before any run is selected", () => {
    const { model, sent } = fake({});
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(el.querySelector(".ll-hint")?.textContent).toBe("Select runs in the table to plot them.");
    expect(el.querySelector(".ll-panel")).toBeNull();
    expect(sent).toEqual([{ type: "ready" }]); // asks for the points read before it showed
  });

  it("lays out sections and panels, and the picker adds a panel", () => {
    const { model, state } = fake({
      runs: ["a/p/1"],
      _sections: [
        { title: "train", keys: ["train/loss"] },
        { title: "val", keys: ["val/acc"] },
      ],
      _metrics: ["train/loss", "val/acc", "val/loss"],
      _names: { "a/p/1": "run one" },
      _colors: { "a/p/1": "#4e79a7" },
    });
    const el = document.createElement("div");
    const view = widget.render({ model, el });
    const titles = Array.from(el.querySelectorAll(".ll-section-head"), (e) => e.textContent);
    expect(titles).toEqual([]); // nothing drawn before the points came: "Loading…"
    expect(el.querySelector(".ll-loading")).not.toBeNull();
    view();
    // The picker: search, then click a match.
    const search = el.querySelector(".ll-picker-search") as HTMLInputElement;
    search.value = "val/l";
    search.dispatchEvent(new Event("input"));
    const items = Array.from(el.querySelectorAll(".ll-picker-item"), (e) => e.textContent);
    expect(items).toEqual(["val/loss"]);
    el.querySelector(".ll-picker-item")!.dispatchEvent(new MouseEvent("mousedown"));
    expect(state.panels).toEqual(["train/loss", "val/acc", "val/loss"]);
    expect(el.querySelector(".ll-legend")?.textContent).toBe("run one");
  });
});
