// The live poll: every `interval` seconds, while the grid is in sight and the last ask has been
// answered, ask Python for new points. A busy kernel answers late, so the polls pause with it;
// a grid scrolled away or hidden asks nothing.

/** How long an ask may go unanswered before another is allowed (a lost message). */
export const STALE_MS = 60_000;

export class Poller {
  private timer: ReturnType<typeof setInterval> | null = null;
  private observer: IntersectionObserver | null = null;
  /** When the ask in flight was sent (ms), or 0. */
  outstanding = 0;
  visible = true;

  constructor(
    private ask: () => void,
    private wanted: () => boolean,
    private now: () => number = () => Date.now(),
  ) {}

  /** Watch `el`'s visibility (where the browser can tell) and tick every `seconds`. */
  start(el: HTMLElement, seconds: number): void {
    this.stop();
    if (typeof IntersectionObserver !== "undefined") {
      this.observer = new IntersectionObserver((entries) => {
        for (const e of entries) this.visible = e.isIntersecting;
      });
      this.observer.observe(el);
    }
    this.timer = setInterval(() => this.tick(), Math.max(seconds, 0.2) * 1000);
  }

  /** Ask, if it is wanted, in sight and nothing is in flight. Returns whether it asked. */
  tick(): boolean {
    if (!this.wanted() || !this.visible) return false;
    if (this.outstanding && this.now() - this.outstanding < STALE_MS) return false;
    this.outstanding = this.now();
    this.ask();
    return true;
  }

  /** The answer came. */
  answered(): void {
    this.outstanding = 0;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.observer?.disconnect();
    this.observer = null;
  }
}
