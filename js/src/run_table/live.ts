// Live rows: while runs in sight are running, ask the kernel every few seconds to read those
// rows again (their state and metrics move). Only while the table is on screen, never with an
// earlier request still out, and not when the user paused it; it stops by itself once no run
// in sight is running.

import type { RefreshRequest } from "./messages";

/** Seconds between two refreshes. */
export const EVERY_MS = 3000;
/** A refresh never answered (the kernel restarted) no longer blocks the next one. */
const GIVE_UP_MS = 30_000;

/** What live refresh needs of the table. */
export interface LiveSource {
  /** Whether the user lets it run (the `live` trait). */
  on: () => boolean;
  /** The rows in sight that hold a running run, as one range of rows; null if none. */
  running: () => { offset: number; limit: number; count: number } | null;
  /** The current query (an answer to an older one is dropped). */
  query: () => number;
  send: (msg: RefreshRequest) => void;
}

export class Live {
  private visible = true;
  private outstanding = 0; // when the request out was sent, 0 when none
  private timer: ReturnType<typeof setInterval> | undefined;
  private observer: IntersectionObserver | undefined;

  constructor(
    private readonly el: HTMLElement,
    private readonly source: LiveSource,
  ) {
    if (typeof IntersectionObserver !== "undefined") {
      this.observer = new IntersectionObserver((entries) => {
        for (const e of entries) this.visible = e.isIntersecting;
      });
      this.observer.observe(el);
    }
    this.timer = setInterval(() => this.tick(), EVERY_MS);
  }

  /** Ask for the running rows again if all is right for it; true when a request went out. */
  tick(now = Date.now()): boolean {
    if (this.outstanding && now - this.outstanding < GIVE_UP_MS) return false;
    if (!this.visible || !this.source.on() || !this.el.isConnected) return false;
    const range = this.source.running();
    if (!range) return false;
    this.outstanding = now;
    this.source.send({ type: "refresh", query: this.source.query(), offset: range.offset, limit: range.limit });
    return true;
  }

  /** The kernel answered (rows, or a failure): the next refresh may go. */
  answered(): void {
    this.outstanding = 0;
  }

  /** The view is gone. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.observer?.disconnect();
  }
}
