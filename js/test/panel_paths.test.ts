import { describe, expect, it } from "vitest";
import type uPlot from "uplot";
import { straightLines } from "../src/panels/paths";

/** A Path2D that keeps the points it is given (jsdom has none). */
class Recorded {
  points: [number, number][] = [];
  lineTo(x: number, y: number) {
    this.points.push([x, y]);
  }
}
(globalThis as unknown as { Path2D: unknown }).Path2D = Recorded;

/** The part of a uPlot a path builder reads: a plot box of 100 x 50 canvas px at (10, 5). */
function plot(x: number[], ys: (number | null)[][], scale: Partial<uPlot.Scale> = {}) {
  const linear = { distr: 1, ori: 0, dir: 1 };
  return {
    data: [x, ...ys],
    bbox: { left: 10, top: 5, width: 100, height: 50 },
    scales: {
      x: { ...linear, min: 0, max: 10, ...scale },
      y: { ...linear, ori: 1, min: 0, max: 5 },
    },
    series: [{}, ...ys.map(() => ({ scale: "y", pxAlign: 1 }))],
  } as unknown as uPlot;
}

const points = (paths: ReturnType<uPlot.Series.PathBuilder>) =>
  (paths!.stroke as unknown as Recorded).points;

describe("panel line paths", () => {
  const fallback: uPlot.Series.PathBuilder = () => ({ stroke: null, flags: 0 });

  it("puts each point on its whole pixel, as uPlot's linear paths do", () => {
    const build = straightLines(fallback);
    const u = plot([0, 2.5, 5, 10], [[0, 1, 5, 2.5]]);
    // x: 10 + 10 px per unit; y: 5 + 50 - 10 px per unit, rounded.
    expect(points(build(u, 1, 0, 3))).toEqual([
      [10, 55],
      [35, 45],
      [60, 5],
      [110, 30],
    ]);
  });

  it("spans gaps, draws only the range asked, and skips a point on the pixel before", () => {
    const build = straightLines(fallback);
    const u = plot([0, 1, 1.01, 2, 3, 4], [[1, 2, 2, null, 4, 5], [5, 4, 3, 2, 1, 0]]);
    expect(points(build(u, 1, 0, 4))).toEqual([
      [10, 45],
      [20, 35],
      [40, 15],
    ]);
    // The second line of the same grid: the x pixels kept, its own y.
    expect(points(build(u, 2, 1, 3))).toEqual([
      [20, 15],
      [20, 25],
      [30, 35],
    ]);
  });

  it("follows the x range when it changes (a zoom) for the same grid", () => {
    const build = straightLines(fallback);
    const x = [0, 5, 10];
    expect(points(build(plot(x, [[0, 0, 0]]), 1, 0, 2)).map((p) => p[0])).toEqual([10, 60, 110]);
    const zoomed = plot(x, [[0, 0, 0]], { min: 5, max: 10 });
    expect(points(build(zoomed, 1, 0, 2)).map((p) => p[0])).toEqual([-90, 10, 110]);
  });

  it("leaves other scales to uPlot's own paths", () => {
    let asked = 0;
    const build = straightLines(() => {
      asked++;
      return { stroke: null, flags: 0 };
    });
    build(plot([1, 10], [[1, 2]], { distr: 3 }), 1, 0, 1);
    build(plot([1, 10], [[1, 2]], { dir: -1 }), 1, 0, 1);
    expect(asked).toBe(2);
  });
});
