// The full-size view of one image, over the panel: opened at once with the thumbnail, then
// showing the image itself when the kernel has read it (`_full`). Esc, the close button or a
// click beside the image closes it. While open, the panel is made tall enough to hold it.

import { h } from "../common";
import type { Bytes, Full, Urls } from "./types";

/** What the viewer shows of the image opened. */
export interface Opened {
  n: number;
  title: string;
  caption: string | null;
  width: number;
  height: number;
  src: string;
}

/** How much a small image is enlarged (whole pixels, sharp) to be seen: up to ~384 px. */
export function zoomOf(width: number, height: number): number {
  const long = Math.max(width, height, 1);
  return long >= 384 ? 1 : Math.max(Math.floor(384 / long), 1);
}

export class Viewer {
  readonly element = h("div", "ll-mp-viewer");
  private opened: Opened | null = null;
  private readonly img = document.createElement("img");
  private readonly title = h("div", "ll-mp-viewer-title");
  private readonly caption = h("div", "ll-mp-viewer-caption");
  private readonly size = h("div", "ll-mp-viewer-size");
  private readonly card = h("div", "ll-mp-viewer-card");

  /** `fit(px)`: the panel's height should be at least `px` (`null`: as it was). */
  constructor(
    private readonly urls: Urls,
    private readonly fit: (px: number | null) => void = () => undefined,
  ) {
    const close = h("button", "ll-mp-close", "×");
    close.title = "close (Esc)";
    close.addEventListener("click", () => this.close());
    const frame = h("div", "ll-mp-viewer-frame");
    frame.append(this.img);
    const head = h("div", "ll-mp-viewer-head");
    head.append(this.title, close);
    this.card.append(head, frame, this.caption, this.size);
    this.element.append(this.card);
    this.element.tabIndex = -1;
    this.element.style.display = "none";
    this.element.addEventListener("click", (ev) => {
      if (ev.target === this.element) this.close();
    });
    this.element.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") this.close();
    });
  }

  /** Open an image with what is at hand (its thumbnail). */
  open(o: Opened): void {
    this.opened = o;
    this.element.dataset.n = String(o.n);
    this.element.dataset.full = "false";
    this.title.textContent = o.title;
    this.caption.textContent = o.caption ?? "";
    this.caption.style.display = o.caption ? "" : "none";
    this.show(o.src, o.width, o.height, false);
    this.element.style.display = "";
    this.fit(this.card.offsetHeight + 32);
    this.element.focus();
  }

  /** The kernel's full-size read: shown if it is the image open. */
  full(f: Full): void {
    if (!this.opened || f.n !== this.opened.n || !f.png) return;
    this.urls.clear(); // the image shown before this one
    this.show(this.urls.of(f.png as Bytes, "image/png"), f.width ?? 0, f.height ?? 0, true);
    this.element.dataset.full = "true";
    this.fit(this.card.offsetHeight + 32);
  }

  private show(src: string, width: number, height: number, full: boolean): void {
    const z = zoomOf(width, height);
    this.img.src = src;
    this.img.className = z > 1 ? "ll-mp-pixelated" : "";
    this.img.style.width = `${width * z}px`;
    this.img.style.height = `${height * z}px`;
    const zoom = z > 1 ? ` · shown ${z}×` : "";
    this.size.textContent = `${width} × ${height} px${zoom}${full ? "" : " · loading…"}`;
  }

  close(): void {
    this.opened = null;
    this.element.style.display = "none";
    this.fit(null);
  }

  get isOpen(): boolean {
    return this.opened !== null;
  }
}
