// A run's histograms over steps as a heat map, W&B's look: x = step (one column per step
// logged), y = value, colour = count (each step scaled to its own largest bin, so a late,
// narrower distribution stays as visible as an early one). Drawn on a canvas.

import { h } from "../common";
import type { HistCell } from "./types";

// Viridis at five stops, interpolated: dark for few, yellow for many.
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** The colour of `t` in [0, 1] (clamped) on the scale. */
export function colorOf(t: number): string {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const c = STOPS[i].map((v, k) => Math.round(v + (STOPS[i + 1][k] - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The smallest and largest edge over every step: the y axis. */
export function valueRange(edges: number[][]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of edges) {
    for (const v of e) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** One rectangle of the map: step column `i`, bin `j`, in pixels, with its colour. */
export interface Rect {
  i: number;
  j: number;
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
}

/** The rectangles of the map in a plot area `width` x `height` (y grows downwards). */
export function layoutRects(hist: HistCell, width: number, height: number): Rect[] {
  const [lo, hi] = valueRange(hist.edges);
  const n = hist.steps.length;
  const w = n ? width / n : 0;
  const yOf = (v: number) => height - ((v - lo) / (hi - lo)) * height;
  const out: Rect[] = [];
  for (let i = 0; i < n; i++) {
    const counts = hist.counts[i];
    const edges = hist.edges[i];
    const top = Math.max(...counts.filter(Number.isFinite), 0);
    for (let j = 0; j < counts.length; j++) {
      if (!(counts[j] > 0)) continue; // an empty bin shows the background
      const y0 = yOf(edges[j + 1]);
      const y1 = yOf(edges[j]);
      out.push({ i, j, x: i * w, y: y0, w, h: Math.max(y1 - y0, 1), color: colorOf(counts[j] / top) });
    }
  }
  return out;
}

/** A short number for an axis label. */
export function tick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

const PAD = { left: 46, bottom: 18, top: 4, right: 6 };

/** The heat map of `hist` in an element `width` px wide, with its axes and a hover readout. */
export function heatmap(hist: HistCell, width: number, height = 180): HTMLElement {
  const box = h("div", "ll-mp-heat");
  const canvas = document.createElement("canvas");
  const plotW = Math.max(width - PAD.left - PAD.right, 10);
  const plotH = height - PAD.top - PAD.bottom;
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const rects = layoutRects(hist, plotW, plotH);
  canvas.dataset.rects = String(rects.length);
  canvas.dataset.steps = String(hist.steps.length);
  const ctx = canvas.getContext("2d");
  const [lo, hi] = valueRange(hist.edges);
  if (ctx) {
    ctx.scale(ratio, ratio);
    ctx.fillStyle = "#f4f4f8";
    ctx.fillRect(PAD.left, PAD.top, plotW, plotH);
    for (const r of rects) {
      ctx.fillStyle = r.color;
      // A hair wider and taller than its cell, so neighbouring cells leave no seams.
      ctx.fillRect(PAD.left + r.x, PAD.top + r.y, r.w + 0.5, r.h + 0.5);
    }
    ctx.fillStyle = "#555";
    ctx.font = "10px sans-serif";
    ctx.textAlign = "right";
    ctx.fillText(tick(hi), PAD.left - 4, PAD.top + 9);
    ctx.fillText(tick((lo + hi) / 2), PAD.left - 4, PAD.top + plotH / 2 + 3);
    ctx.fillText(tick(lo), PAD.left - 4, PAD.top + plotH);
    const steps = hist.steps;
    if (steps.length) {
      ctx.textAlign = "left";
      ctx.fillText(`step ${steps[0]}`, PAD.left, height - 5);
      ctx.textAlign = "right";
      ctx.fillText(String(steps[steps.length - 1]), PAD.left + plotW, height - 5);
    }
  }
  const readout = h("div", "ll-mp-readout", " ");
  canvas.addEventListener("mousemove", (ev) => {
    const rect = canvas.getBoundingClientRect();
    const x = ev.clientX - rect.left - PAD.left;
    const y = ev.clientY - rect.top - PAD.top;
    const i = Math.floor((x / plotW) * hist.steps.length);
    if (i < 0 || i >= hist.steps.length || y < 0 || y > plotH) return;
    const v = hi - (y / plotH) * (hi - lo);
    const edges = hist.edges[i];
    const j = edges.findIndex((e, k) => k + 1 < edges.length && v >= e && v <= edges[k + 1]);
    const count = j >= 0 ? hist.counts[i][j] : 0;
    const bin = j >= 0 ? `[${tick(edges[j])}, ${tick(edges[j + 1])}]` : tick(v);
    readout.textContent = `step ${hist.steps[i]} · ${bin} · count ${count}`;
  });
  box.append(canvas, readout);
  return box;
}
