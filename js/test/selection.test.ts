import { describe, expect, it } from "vitest";
import { Selection } from "../src/run_table/selection";

// Rows 0..9 are here; the others' pages are not.
const pathAt = (k: number) => (k < 10 ? `p/r${k}` : null);

describe("selecting rows", () => {
  it("toggles one run per click", () => {
    const s = new Selection();
    let sel = s.click([], 2, "p/r2", false, pathAt);
    expect(sel).toEqual(["p/r2"]);
    sel = s.click(sel, 4, "p/r4", false, pathAt);
    expect(sel).toEqual(["p/r2", "p/r4"]);
    expect(s.click(sel, 2, "p/r2", false, pathAt)).toEqual(["p/r4"]);
  });

  it("adds the runs from the last clicked row to a shift-clicked one, either way", () => {
    const s = new Selection();
    let sel = s.click([], 3, "p/r3", false, pathAt);
    sel = s.click(sel, 1, "p/r1", true, pathAt);
    expect(sel.sort()).toEqual(["p/r1", "p/r2", "p/r3"]);
    // From row 1 down to row 12: the rows whose page is not here are left out.
    sel = s.click(sel, 12, "p/r12", true, pathAt);
    expect(sel.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => `p/r${k}`).sort());
  });

  it("takes a shift-click without an earlier click as a plain click", () => {
    expect(new Selection().click(["p/r0"], 5, "p/r5", true, pathAt)).toEqual(["p/r0", "p/r5"]);
  });
});
