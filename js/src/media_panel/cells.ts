// The body of one run column: a gallery of thumbnails, tables, a heat map, audio players,
// videos, text, or HTML in a sandboxed frame, as the item type asks.

import { h } from "../common";
import { heatmap } from "./heatmap";
import { tableView } from "./table";
import type { Column, HistCell, ImageCell, OtherCell, RunCell, TableCell, Urls } from "./types";
import type { Opened } from "./viewer";

/** What a column's body needs of the panel. */
export interface CellContext {
  urls: Urls;
  type: string;
  key: string;
  step: number | null;
  width: number;
  open: (o: Opened) => void;
  turn: (run: string, n: number, page: number) => void;
}

/** A small image's display size: enlarged by a whole factor to about 64 px, sharp. */
export function thumbScale(width: number, height: number): number {
  const long = Math.max(width, height, 1);
  return long >= 64 ? 1 : Math.max(Math.floor(72 / long), 1);
}

function gallery(col: Column, items: ImageCell[], ctx: CellContext): HTMLElement {
  const box = h("div", "ll-mp-gallery");
  for (const it of items) {
    const fig = h("figure", "ll-mp-thumb");
    const img = document.createElement("img");
    const src = ctx.urls.of(it.png, "image/png");
    const s = thumbScale(it.thumb_width, it.thumb_height);
    img.src = src;
    img.dataset.n = String(it.n);
    img.width = it.thumb_width * s;
    img.height = it.thumb_height * s;
    if (s > 1) img.className = "ll-mp-pixelated";
    img.alt = it.caption ?? `${ctx.key} ${it.index}`;
    img.title = `${it.caption ?? ""} (${it.width} × ${it.height} px; click for full size)`.trim();
    img.addEventListener("click", () =>
      ctx.open({
        n: it.n,
        title: `${col.name} · ${ctx.key} · step ${ctx.step}`,
        caption: it.caption,
        width: it.width,
        height: it.height,
        src,
      }),
    );
    fig.append(img);
    if (it.caption) fig.append(h("figcaption", "ll-mp-caption", it.caption));
    box.append(fig);
  }
  return box;
}

function other(it: OtherCell, ctx: CellContext): HTMLElement {
  const box = h("div", `ll-mp-item ll-mp-${ctx.type}`);
  box.dataset.n = String(it.n);
  if (it.caption) box.append(h("div", "ll-mp-caption", it.caption));
  if (ctx.type === "audio" && it.bytes) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "metadata";
    audio.src = ctx.urls.of(it.bytes, "audio/wav");
    box.append(audio);
    const secs = it.meta.seconds;
    if (typeof secs === "number") box.append(h("div", "ll-meta", `${secs.toFixed(2)} s`));
  } else if (ctx.type === "video" && it.bytes) {
    const mime = `${it.format === "gif" ? "image" : "video"}/${it.format}`;
    const v = it.format === "gif" ? document.createElement("img") : document.createElement("video");
    if (v instanceof HTMLVideoElement) v.controls = true;
    v.src = ctx.urls.of(it.bytes, mime);
    v.className = "ll-mp-video";
    box.append(v);
  } else if (ctx.type === "html") {
    // sandbox="" : no scripts, no forms, no same-origin access to the notebook.
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "");
    frame.srcdoc = it.text ?? "";
    frame.className = "ll-mp-html";
    box.append(frame);
  } else if (ctx.type === "plotly") {
    box.append(
      h("div", "ll-meta", "a plotly figure: item.to_plotly() shows it in the notebook"),
      h("pre", "ll-mp-text", (it.text ?? "").slice(0, 400)),
    );
  } else {
    box.append(h("pre", "ll-mp-text", it.text ?? ""));
  }
  return box;
}

/** The body of the column of run `col`: what it logged at the step, or a hint when nothing. */
export function columnBody(col: Column, cell: RunCell | undefined, ctx: CellContext): HTMLElement {
  const body = h("div", "ll-mp-body");
  const items = cell?.items ?? [];
  if (ctx.type === "histogram") {
    if (cell?.steps?.length) body.append(heatmap(cell as HistCell, ctx.width));
    else body.append(h("div", "ll-mp-hint", `no ${ctx.key} logged`));
    const of = cell?.of ?? 0;
    const shown = cell?.steps?.length ?? 0;
    if (of > shown) body.append(h("div", "ll-meta", `${shown} of ${of} steps shown, evenly spread`));
    return body;
  }
  if (!items.length) {
    body.append(h("div", "ll-mp-hint", `no ${ctx.key} at step ${ctx.step}`));
    return body;
  }
  if (ctx.type === "image") body.append(gallery(col, items as ImageCell[], ctx));
  else if (ctx.type === "table") {
    for (const t of items as TableCell[]) {
      body.append(tableView(t, (page) => ctx.turn(col.path, t.n, page)));
    }
  } else for (const it of items as OtherCell[]) body.append(other(it, ctx));
  if (cell?.more) body.append(h("div", "ll-meta", `+${cell.more} more at this step`));
  return body;
}
