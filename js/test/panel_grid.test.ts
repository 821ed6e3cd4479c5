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

/** A 2D context that draws nothing and keeps the stroke styles set (jsdom has no canvas). */
function stubCanvas(): string[] {
  const strokes: string[] = [];
  const ctx = new Proxy({} as Record<string | symbol, unknown>, {
    get: (held, k) =>
      k in held
        ? held[k]
        : k === "measureText"
          ? () => ({ width: 10, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 })
          : () => undefined,
    set: (held, k, v) => {
      if (k === "strokeStyle") strokes.push(String(v));
      held[k] = v;
      return true;
    },
  });
  HTMLCanvasElement.prototype.getContext = (() => ctx) as never;
  (globalThis as unknown as { Path2D: unknown }).Path2D = class {
    lineTo() {}
    moveTo() {}
    rect() {}
    closePath() {}
  };
  return strokes;
}

describe("PanelGrid selections", () => {
  const keys = ["train/loss", "train/acc"];
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const settle = async () => {
    await frame();
    await frame();
  };

  /** The state a read of `runs` sets, then its points: each run's series of both metrics. */
  function select(
    state: Model,
    emit: (event: string, ...args: unknown[]) => void,
    runs: string[],
    colors: string[],
  ) {
    state._version += 1;
    state.runs = runs;
    state._names = Object.fromEntries(runs.map((r) => [r, `name ${r}`]));
    state._colors = Object.fromEntries(runs.map((r, i) => [r, colors[i]]));
    state._codes = Object.fromEntries(keys.map((k) => [k, `code of ${k} for ${runs.join(",")}`]));
    for (const k of ["runs", "_names", "_colors", "_codes", "_version"]) emit(`change:${k}`);
    const series = runs.flatMap((run, i) =>
      keys.map((key, j) => ({ run, key, n: 3, ...(i + j ? { x: 0 } : {}) })),
    );
    const x = new Float64Array([0, 1, 2]);
    const y = new Float64Array(series.length * 3).map((_, i) => i);
    const message = { type: "data", mode: "full", version: state._version, x_axis: "_step" };
    emit("msg:custom", { ...message, series }, [x, y]);
  }

  it("draws another selection in the panels there are: its lines, colours and code", async () => {
    const strokes = stubCanvas();
    const { model, state, emit } = fake({
      _sections: [{ title: "train", keys }],
      _metrics: keys,
    });
    const el = document.createElement("div");
    document.body.append(el);
    widget.render({ model, el });
    const lines = () =>
      Array.from(el.querySelectorAll<HTMLElement>(".ll-panel"), (p) => [
        p.dataset.key,
        p.dataset.lines,
        p.dataset.points,
        p.querySelector(".ll-panel-code")?.textContent,
      ]);

    select(state, emit, ["a/p/1", "a/p/2"], ["#111111", "#222222"]);
    await settle();
    const panels = Array.from(el.querySelectorAll(".ll-panel"));
    const canvases = Array.from(el.querySelectorAll(".ll-panel canvas"));
    expect(lines()).toEqual([
      ["train/loss", "2", "6", "code of train/loss for a/p/1,a/p/2"],
      ["train/acc", "2", "6", "code of train/acc for a/p/1,a/p/2"],
    ]);
    expect(canvases.length).toBe(2);
    expect(strokes).toContain("#222222");

    strokes.length = 0;
    select(state, emit, ["a/p/3", "a/p/4"], ["#333333", "#444444"]);
    await settle();
    // The same panels and plots, drawn with the new runs' colours and showing their code.
    expect(Array.from(el.querySelectorAll(".ll-panel"))).toEqual(panels);
    expect(Array.from(el.querySelectorAll(".ll-panel canvas"))).toEqual(canvases);
    expect(lines()).toEqual([
      ["train/loss", "2", "6", "code of train/loss for a/p/3,a/p/4"],
      ["train/acc", "2", "6", "code of train/acc for a/p/3,a/p/4"],
    ]);
    expect(strokes).toContain("#333333");
    expect(strokes).toContain("#444444");
    expect(strokes).not.toContain("#111111");
    expect(strokes).not.toContain("#222222");

    // A selection of more runs: the same panels, a line more in each.
    select(state, emit, ["a/p/1", "a/p/2", "a/p/5"], ["#111111", "#222222", "#555555"]);
    await settle();
    expect(Array.from(el.querySelectorAll(".ll-panel"))).toEqual(panels);
    expect(lines().map((l) => l.slice(1, 3))).toEqual([
      ["3", "9"],
      ["3", "9"],
    ]);
    expect(strokes).toContain("#555555");
    el.remove();
  });
});
