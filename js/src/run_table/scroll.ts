// Virtual scrolling: a spacer as tall as all rows keeps the scroll bar true, and only the
// rows in sight (and a few around them) are in the DOM, moved to where they stand. The
// header scrolls sideways with the rows.

import { h } from "../common";

/** A row's height in pixels. */
export const ROW_H = 26;
/** The rows in sight at most; a shorter result takes only the room it needs. */
export const VIEW_ROWS = 14;
/** Room for a horizontal scroll bar under the rows. */
const SCROLLBAR = 16;

/** The rows to draw at a scroll position, [first, last): those in sight, two above and two
 * below, so a small scroll shows no gap before the next frame redraws. */
export function rowWindow(scrollTop: number, total: number): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - 2);
  const last = Math.min(total, first + VIEW_ROWS + 4);
  return { first, last };
}

export class VirtualScroll {
  readonly viewport = h("div", "ll-viewport");
  private readonly spacer = h("div", "ll-spacer");
  private readonly rows = h("div", "ll-rows");
  private frame = 0;

  /** `head` scrolls sideways with the rows; `redraw` draws the rows after a scroll (once a
   * frame, however many scroll events came). */
  constructor(head: HTMLElement, redraw: () => void) {
    this.spacer.append(this.rows);
    this.viewport.append(this.spacer);
    const viewport = this.viewport;
    // The header and the rows scroll sideways together, whichever of them moved.
    head.addEventListener("scroll", () => {
      if (viewport.scrollLeft !== head.scrollLeft) viewport.scrollLeft = head.scrollLeft;
    });
    viewport.addEventListener("scroll", () => {
      if (head.scrollLeft !== viewport.scrollLeft) head.scrollLeft = viewport.scrollLeft;
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        redraw();
      });
    });
  }

  /** Size the scrolled area for `total` rows; the rows to draw now. */
  window(total: number): { first: number; last: number } {
    this.spacer.style.height = `${Math.max(total, 0) * ROW_H}px`;
    // A short result takes only the room it needs (and a horizontal scroll bar's).
    this.viewport.style.height = `${Math.min(Math.max(total, 1), VIEW_ROWS) * ROW_H + SCROLLBAR}px`;
    return rowWindow(this.viewport.scrollTop, total);
  }

  /** Show `rows`, drawn from row `first` on. */
  show(first: number, rows: DocumentFragment): void {
    this.rows.style.transform = `translateY(${first * ROW_H}px)`;
    this.rows.replaceChildren(rows);
  }

  /** Back to the first row (a new query). */
  toTop(): void {
    this.viewport.scrollTop = 0;
  }

  /** Drop a redraw still waiting for its frame (the view is gone). */
  stop(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
