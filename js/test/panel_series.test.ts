import { describe, expect, it } from "vitest";
import { buildLines, fade, THIN_ABOVE } from "../src/panels/lines";
import { Poller } from "../src/panels/live";
import {
  aggregate,
  decode,
  ema,
  interp,
  nearest,
  place,
  Store,
  unionX,
} from "../src/panels/series";
import { matching } from "../src/panels/toolbar";

const f64 = (xs: number[]) => new Float64Array(xs);
/** Float64 little-endian bytes in a DataView at an odd offset, as a message may carry them. */
function view(xs: number[]): DataView {
  const bytes = new Uint8Array(xs.length * 8 + 3);
  new DataView(bytes.buffer).setUint8(0, 0);
  const dv = new DataView(bytes.buffer, 3, xs.length * 8);
  xs.forEach((x, i) => dv.setFloat64(i * 8, x, true));
  return dv;
}

describe("panel series", () => {
  it("cuts the series out of the two buffers, wherever they start", () => {
    const index = [
      { run: "a/p/1", key: "loss", n: 2 },
      { run: "a/p/2", key: "loss", n: 1 },
    ];
    const s = decode(index, view([0, 1, 5]), view([0.5, 0.25, 9]));
    expect(s.map((x) => [x.run, Array.from(x.x), Array.from(x.y)])).toEqual([
      ["a/p/1", [0, 1], [0.5, 0.25]],
      ["a/p/2", [5], [9]],
    ]);
  });

  it("reads buffers on whole float64s in place, and copies others to align them", () => {
    const bytes = new Uint8Array(8 * 4);
    new Float64Array(bytes.buffer).set([0, 1, 0.5, 0.25]);
    const xs = new DataView(bytes.buffer, 0, 16);
    const ys = new DataView(bytes.buffer, 16, 16);
    const [s] = decode([{ run: "a/p/1", key: "loss", n: 2 }], xs, ys);
    expect([Array.from(s.x), Array.from(s.y)]).toEqual([
      [0, 1],
      [0.5, 0.25],
    ]);
    expect(s.y.buffer).toBe(bytes.buffer); // not copied
    const odd = decode([{ run: "a/p/1", key: "loss", n: 2 }], view([0, 1]), view([2, 3]));
    expect(Array.from(odd[0].y)).toEqual([2, 3]);
  });

  it("gives a series the x values of the earlier one it names", () => {
    const index = [
      { run: "a/p/1", key: "loss", n: 2 },
      { run: "a/p/1", key: "acc", n: 2, x: 0 },
      { run: "a/p/2", key: "loss", n: 1 },
    ];
    const s = decode(index, view([0, 1, 5]), view([0.5, 0.25, 0.7, 0.8, 9]));
    expect(s.map((x) => [x.key, Array.from(x.x), Array.from(x.y)])).toEqual([
      ["loss", [0, 1], [0.5, 0.25]],
      ["acc", [0, 1], [0.7, 0.8]],
      ["loss", [5], [9]],
    ]);
  });

  it("takes a shared x array as the grid and places y on it as it is", () => {
    const x = f64([0, 1, 2]);
    const a = { run: "a", key: "k", x, y: f64([1, NaN, 3]) };
    const b = { run: "b", key: "k", x, y: f64([4, 5, Infinity]) };
    const grid = unionX([a, b]);
    expect(grid).toBe(x);
    expect(place(grid, a.x, a.y)).toEqual([1, null, 3]);
    expect(place(grid, b.x, b.y)).toEqual([4, 5, null]);
    const whole = f64([4, 5, 6]);
    expect(place(grid, x, whole)).toBe(whole); // every value a number: drawn as it is
    expect(Array.from(unionX([a, { ...b, x: f64([1, 5]), y: f64([1, 2]) }]))).toEqual([0, 1, 2, 5]);
  });

  it("appends live points after those held", () => {
    const store = new Store();
    store.reset([{ run: "r", key: "k", x: f64([0, 1]), y: f64([1, 2]) }]);
    store.append([
      { run: "r", key: "k", x: f64([2, 3]), y: f64([3, 4]) },
      { run: "s", key: "k", x: f64([0]), y: f64([7]) },
    ]);
    expect(Array.from(store.of("k", ["r"])[0].x)).toEqual([0, 1, 2, 3]);
    expect(store.points("k", ["r", "s"])).toBe(5);
    expect(store.of("k", ["s", "r"]).map((s) => s.run)).toEqual(["s", "r"]);
    expect(store.of("other", ["r"])).toEqual([]);
  });

  it("aligns runs with different steps on one grid", () => {
    const a = { run: "a", key: "k", x: f64([0, 2, 4]), y: f64([1, NaN, 3]) };
    const b = { run: "b", key: "k", x: f64([1, 2]), y: f64([5, 6]) };
    const grid = unionX([a, b]);
    expect(Array.from(grid)).toEqual([0, 1, 2, 4]);
    expect(place(grid, a.x, a.y)).toEqual([1, null, null, 3]);
    expect(place(grid, b.x, b.y)).toEqual([null, 5, 6, null]);
  });

  it("smooths as TensorBoard does, skipping gaps", () => {
    expect(ema([1, null, 1, 1], 0.9)).toEqual([1, null, 1, 1]);
    const out = ema([0, 10], 0.5) as number[];
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(10 * 0.5 / 0.75);
    expect(ema([1, 2], 0)).toEqual([1, 2]);
  });

  it("interpolates inside a run's range and aggregates a group", () => {
    const grid = f64([0, 1, 2, 3]);
    expect(interp(grid, f64([0, 2]), [0, 4])).toEqual([0, 2, 4, null]);
    const { mean, lo, hi } = aggregate([[1, 2, null], [3, null, null]], 3);
    expect(mean).toEqual([2, 2, null]);
    expect(lo).toEqual([1, 2, null]);
    expect(hi).toEqual([3, 2, null]);
  });

  it("finds the nearest point", () => {
    expect(nearest([0, 10, 20], 14)).toBe(1);
    expect(nearest([0, 10, 20], 16)).toBe(2);
    expect(nearest([0, 10, 20], -5)).toBe(0);
    expect(nearest([], 1)).toBe(-1);
  });
});

describe("panel lines", () => {
  const series = [
    { run: "a", key: "k", x: f64([0, 1, 2]), y: f64([3, 2, 1]) },
    { run: "b", key: "k", x: f64([0, 2]), y: f64([5, 7]) },
  ];
  const style = {
    runs: ["a", "b"],
    names: { a: "run a", b: "run b" },
    colors: { a: "#4e79a7", b: "#f28e2b" },
    smoothing: 0,
    groups: {},
    groupColors: {},
  };

  it("draws a line per run, and hovers every run at one x", () => {
    const lines = buildLines(series, style);
    expect(lines.series.slice(1).map((s) => [s.label, s.stroke])).toEqual([
      ["run a", "#4e79a7"],
      ["run b", "#f28e2b"],
    ]);
    expect(lines.points).toBe(5);
    // At x = 1 run b logged nothing: its nearest point is shown.
    expect(lines.hovered.map((h) => [h.label, h.at(1)])).toEqual([
      ["run a", 2],
      ["run b", 5],
    ]);
  });

  it("draws run lines 1.5 px, and 1 px (hairlines) in a panel of many points", () => {
    expect(buildLines(series, style).series.slice(1).map((s) => s.width)).toEqual([1.5, 1.5]);
    const n = THIN_ABOVE / 2 + 1;
    const long = ["a", "b"].map((run) => ({
      run,
      key: "k",
      x: f64(Array.from({ length: n }, (_, i) => i)),
      y: f64(Array.from({ length: n }, (_, i) => i * i)),
    }));
    const lines = buildLines(long, style);
    expect(lines.points).toBe(2 * n);
    expect(lines.series.slice(1).map((s) => s.width)).toEqual([1, 1]);
  });

  it("draws the raw curve faint behind the smoothed one", () => {
    const lines = buildLines(series, { ...style, smoothing: 0.6 });
    expect(lines.series.length).toBe(1 + 4);
    expect(lines.series[1].stroke).toBe(fade("#4e79a7", 0.25));
    expect(lines.series[3].label).toBe("run a");
    expect(lines.hovered.length).toBe(2);
  });

  it("draws a group as its mean line and min/max band", () => {
    const lines = buildLines(series, {
      ...style,
      groups: { a: "g", b: "g" },
      groupColors: { g: "#59a14f" },
    });
    expect(lines.series.map((s) => s.label)).toEqual([undefined, "g max", "g min", "g (2)"]);
    expect(lines.bands).toEqual([{ series: [1, 2], fill: fade("#59a14f", 0.18) }]);
    expect(lines.data[3]).toEqual([4, 4, 4]); // mean of a and b (b interpolated at 1: 6)
    expect(lines.data[1]).toEqual([5, 6, 7]);
    expect(lines.data[2]).toEqual([3, 2, 1]);
  });
});

describe("metric picker and live poll", () => {
  it("finds metrics, those starting with the search first", () => {
    const metrics = ["train/acc", "train/loss", "val/acc", "val/loss", "acc"];
    expect(matching(metrics, "val")).toEqual(["val/acc", "val/loss"]);
    expect(matching(metrics, "acc")).toEqual(["acc", "train/acc", "val/acc"]);
    expect(matching(metrics, "")).toEqual(metrics);
  });

  it("asks only when live, in sight and nothing is in flight", () => {
    let now = 1000;
    let live = true;
    const asks: number[] = [];
    const p = new Poller(() => asks.push(now), () => live, () => now);
    expect(p.tick()).toBe(true);
    expect(p.tick()).toBe(false); // the kernel has not answered
    p.answered();
    p.visible = false;
    expect(p.tick()).toBe(false); // scrolled away
    p.visible = true;
    live = false;
    expect(p.tick()).toBe(false);
    live = true;
    expect(p.tick()).toBe(true);
    now += 61_000; // an answer lost: asked again after a minute
    expect(p.tick()).toBe(true);
    expect(asks.length).toBe(3);
  });
});
