// The run table's rows: which rows are in sight (scroll.ts), the pages they come from
// (page_cache.ts, asked of the kernel as they are needed), and clicks on them (selection.ts).

import { tableFromIPC, type Table } from "apache-arrow";
import { loadingRow, rowId, runRow, type RowLook } from "./cells";
import type { Model, TableModel } from "../run_table";
import type { PageMsg, PageRequest, RefreshMsg } from "./messages";
import { Pages } from "./page_cache";
import { VirtualScroll } from "./scroll";
import { Selection } from "./selection";

// Pages the kernel sends with every new query (widgets/run_table.py, _PUSHED_PAGES).
const PUSHED_PAGES = 2;

/** The bytes of a message buffer, as Jupyter hands it over (a DataView or an ArrayBuffer). */
function bytesOf(buf: ArrayBuffer | DataView): Uint8Array {
  return buf instanceof DataView ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
}

export class Rows {
  readonly pages = new Pages();
  readonly scroll: VirtualScroll;
  private readonly selection = new Selection();

  /** `head` scrolls sideways with the rows; `select(paths)`: the user changed the selection;
   * `look`: the columns' widths and the runs' colours. */
  constructor(
    private readonly model: TableModel,
    head: HTMLElement,
    private readonly select: (paths: Model["selected"]) => void,
    private readonly look?: RowLook,
  ) {
    this.scroll = new VirtualScroll(head, () => this.draw());
  }

  private pageSize = (): number => this.model.get("_page_size") || 100;
  private runPath = (id: string): string => `${this.model.get("_project")}/${id}`;

  /** A new query: drop the old rows. `pushed` when the kernel sends the first pages with it
   * (a query changed while this view is shown), so they are not asked for again. */
  newQuery(pushed: boolean): void {
    this.pages.reset(this.model.get("_query"));
    if (pushed) for (let p = 0; p < PUSHED_PAGES; p++) this.pages.pending.add(p);
    this.scroll.toTop();
  }

  /** Keep the kernel's answer to a page request or a refresh; false if it answers an old
   * query, or holds no rows (a refresh that failed). */
  receive(msg: unknown, buffers: unknown): boolean {
    const m = msg as PageMsg | RefreshMsg;
    if ((m.type !== "page" && m.type !== "refresh") || m.query !== this.pages.query) return false;
    const bufs = buffers as (ArrayBuffer | DataView)[] | undefined;
    if (!bufs?.length) return false;
    const rows = tableFromIPC(bytesOf(bufs[0]));
    this.lastRead = rows;
    this.pages.put(m.offset, rows, this.pageSize());
    return true;
  }

  /** The rows of the last answer (the name column fits their names). */
  lastRead: Table | null = null;

  /** The pages in sight that hold a running run, as one range of rows to read again, and how
   * many running runs they hold; null when none is running (or the state is not shown). */
  runningRange(): { offset: number; limit: number; count: number } | null {
    const size = this.pageSize();
    const { first, last } = this.scroll.window(this.model.get("total"));
    let lo = -1;
    let hi = -1;
    let count = 0;
    for (let i = first; i < last; i++) {
      const hit = this.pages.row(i, size);
      const state = hit?.table.getChild("state")?.get(hit.index);
      if (state != null && String(state).toLowerCase() === "running") {
        const p = Math.floor(i / size);
        if (lo < 0) lo = p;
        hi = p;
        count++;
      }
    }
    return count ? { offset: lo * size, limit: (hi - lo + 1) * size, count } : null;
  }

  /** Ask for the pages in [from, to] that are neither here nor on their way, as one range:
   * one message, one Api call in the kernel. */
  private request(from: number, to: number): void {
    const size = this.pageSize();
    const pagesInAll = Math.max(Math.ceil(this.model.get("total") / size), 1);
    if (!this.model.get("_project")) return; // no project shown: nothing to ask for
    const range = this.pages.want(from, to, pagesInAll);
    if (!range) return;
    const [lo, hi] = range;
    const msg: PageRequest = { type: "page", query: this.pages.query, offset: lo * size, limit: (hi - lo + 1) * size };
    this.model.send(msg);
  }

  /** Draw the rows in sight, asking for the pages they (and the next rows) need. */
  draw(): void {
    const size = this.pageSize();
    const { first, last } = this.scroll.window(this.model.get("total"));
    const firstPage = Math.floor(first / size);
    const lastPage = Math.floor(Math.max(last - 1, 0) / size);
    this.request(firstPage, lastPage + 1); // and the next page: it is usually wanted next
    const selected = new Set(this.model.get("selected"));
    const columns = this.model.get("columns");
    const frag = document.createDocumentFragment();
    for (let i = first; i < last; i++) {
      const hit = this.pages.row(i, size);
      if (!hit) {
        frag.append(loadingRow(i));
        continue;
      }
      const path = this.runPath(rowId(hit));
      const r = runRow(i, hit, path, columns, selected.has(path), this.look);
      r.addEventListener("click", (ev) => this.toggle(i, path, ev as MouseEvent));
      frag.append(r);
    }
    this.scroll.show(first, frag);
  }

  private toggle(i: number, path: string, ev: MouseEvent): void {
    const pathAt = (k: number) => {
      const hit = this.pages.row(k, this.pageSize());
      return hit ? this.runPath(rowId(hit)) : null;
    };
    this.select(this.selection.click(this.model.get("selected"), i, path, ev.shiftKey, pathAt));
  }
}
