// The pages of the current query the view holds, and those it has asked for. Pages are cut
// by position (`_page_size` rows each); a new query drops them all, and the least recently
// read go first when more than MAX_PAGES are held, so a long scroll keeps memory bounded.

import type { Table } from "apache-arrow";

/** How many pages the view keeps at most (far more than are ever in sight at once). */
export const MAX_PAGES = 64;

/** A row found in the cache: its page and its index in it. */
export interface Hit {
  table: Table;
  index: number;
}

export class Pages {
  /** Held pages by number, least recently read first. */
  pages = new Map<number, Table>();
  /** Pages asked for and not answered yet. */
  pending = new Set<number>();
  query = -1;

  constructor(readonly maxPages = MAX_PAGES) {}

  /** A new query: nothing held, nothing on its way. */
  reset(query: number): void {
    this.pages.clear();
    this.pending.clear();
    this.query = query;
  }

  /** The pages in [from, to] (of `pagesInAll`) that are neither here nor on their way, as
   * one range [lo, hi] (so one message asks for them), now marked pending; null if none. */
  want(from: number, to: number, pagesInAll: number): [number, number] | null {
    const missing: number[] = [];
    for (let p = Math.max(from, 0); p <= Math.min(to, pagesInAll - 1); p++) {
      if (!this.pages.has(p) && !this.pending.has(p)) missing.push(p);
    }
    if (!missing.length) return null;
    const lo = missing[0];
    const hi = missing[missing.length - 1];
    for (let p = lo; p <= hi; p++) this.pending.add(p);
    return [lo, hi];
  }

  /** Keep an answer starting at row `offset`. One answer may hold several pages: each is
   * kept apart, as the view reads them. */
  put(offset: number, rows: Table, size: number): void {
    const first = Math.floor(offset / size);
    const count = Math.max(Math.ceil(rows.numRows / size), 1);
    for (let k = 0; k < count; k++) {
      this.pending.delete(first + k);
      this.pages.delete(first + k);
      this.pages.set(first + k, rows.slice(k * size, (k + 1) * size));
    }
    this.evict();
  }

  /** Row `i` of the query, if its page is here. */
  row(i: number, size: number): Hit | null {
    const p = Math.floor(i / size);
    const t = this.pages.get(p);
    if (!t) return null;
    // Read last = dropped last: move it to the end of the map's order.
    this.pages.delete(p);
    this.pages.set(p, t);
    const index = i - p * size;
    return index < t.numRows ? { table: t, index } : null;
  }

  private evict(): void {
    for (const p of this.pages.keys()) {
      if (this.pages.size <= this.maxPages) break;
      this.pages.delete(p);
    }
  }
}
