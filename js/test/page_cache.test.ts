import { describe, expect, it } from "vitest";
import { tableFromArrays } from "apache-arrow";
import { Pages } from "../src/run_table/page_cache";

/** Rows `from`..`from + n - 1` as one Arrow table of run ids. */
const rows = (from: number, n: number) =>
  tableFromArrays({ id: Array.from({ length: n }, (_, i) => `r${from + i}`) });

const idAt = (pages: Pages, i: number, size: number) => {
  const hit = pages.row(i, size);
  return hit ? String(hit.table.getChild("id")?.get(hit.index)) : null;
};

describe("the page cache", () => {
  it("asks for the missing pages of a span as one range, and never twice", () => {
    const pages = new Pages();
    pages.reset(7);
    expect(pages.want(0, 1, 100)).toEqual([0, 1]);
    expect(pages.want(0, 2, 100)).toEqual([2, 2]); // 0 and 1 are on their way
    expect(pages.want(98, 105, 100)).toEqual([98, 99]); // none past the last page
    expect(pages.want(0, 2, 100)).toBeNull();
    expect([...pages.pending].sort((a, b) => a - b)).toEqual([0, 1, 2, 98, 99]);
  });

  it("keeps each page of a many-page answer apart, and finds rows in them", () => {
    const pages = new Pages();
    pages.reset(1);
    pages.want(2, 4, 10);
    pages.put(20, rows(20, 25), 10); // pages 2, 3 and half of 4
    expect([...pages.pages.keys()]).toEqual([2, 3, 4]);
    expect(pages.pending.size).toBe(0);
    expect(pages.pages.get(3)?.numRows).toBe(10);
    expect(idAt(pages, 20, 10)).toBe("r20");
    expect(idAt(pages, 44, 10)).toBe("r44");
    expect(idAt(pages, 45, 10)).toBeNull(); // past the rows of the last page
    expect(idAt(pages, 19, 10)).toBeNull(); // page 1 is not here
  });

  it("drops every page and every pending request on a new query", () => {
    const pages = new Pages();
    pages.reset(1);
    pages.want(0, 3, 10);
    pages.put(0, rows(0, 10), 10);
    pages.reset(2);
    expect(pages.query).toBe(2);
    expect(pages.pages.size).toBe(0);
    expect(pages.pending.size).toBe(0);
    expect(idAt(pages, 0, 10)).toBeNull();
    expect(pages.want(0, 1, 10)).toEqual([0, 1]); // asked for again
  });

  it("evicts the least recently read pages past its bound, which are asked for again", () => {
    const pages = new Pages(3);
    pages.reset(1);
    for (const p of [0, 1, 2]) pages.put(p * 10, rows(p * 10, 10), 10);
    expect(idAt(pages, 5, 10)).toBe("r5"); // page 0 read: now the most recent
    pages.put(30, rows(30, 10), 10); // page 3 in: page 1, read least recently, goes
    expect([...pages.pages.keys()].sort()).toEqual([0, 2, 3]);
    expect(idAt(pages, 15, 10)).toBeNull();
    expect(pages.want(0, 3, 10)).toEqual([1, 1]);
    pages.put(40, rows(40, 20), 10); // two pages in one answer: pages 2 and 0 go
    expect([...pages.pages.keys()]).toEqual([3, 4, 5]);
  });
});
