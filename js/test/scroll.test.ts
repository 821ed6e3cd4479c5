import { describe, expect, it } from "vitest";
import { rowWindow, ROW_H, VIEW_ROWS } from "../src/run_table/scroll";

describe("the rows in sight", () => {
  it("draws the rows in sight, two above and two below", () => {
    expect(rowWindow(0, 10_000)).toEqual({ first: 0, last: VIEW_ROWS + 4 });
    expect(rowWindow(100 * ROW_H, 10_000)).toEqual({ first: 98, last: 98 + VIEW_ROWS + 4 });
    expect(rowWindow(100 * ROW_H + ROW_H / 2, 10_000).first).toBe(98);
  });

  it("draws no row past the last", () => {
    expect(rowWindow(0, 3)).toEqual({ first: 0, last: 3 });
    expect(rowWindow(0, 0)).toEqual({ first: 0, last: 0 });
  });
});
