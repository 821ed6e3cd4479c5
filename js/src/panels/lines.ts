// What one panel draws, as uPlot takes it: the aligned data, a series option per line, the
// bands, and for the hover tooltip each line's value at any x. A line per run (the raw curve
// faint behind the smoothed one when smoothing), or per group the mean line and min/max band.

import type uPlot from "uplot";
import { aggregate, ema, interp, nearest, place, unionX, type Series } from "./series";

/** How a panel's lines look: who is drawn, in which colour, under which name. */
export interface LineStyle {
  runs: string[];
  names: Record<string, string>;
  colors: Record<string, string>;
  smoothing: number;
  /** Run path -> group label; empty for a line per run. */
  groups: Record<string, string>;
  groupColors: Record<string, string>;
}

/** A line the tooltip lists: its name, colour and value at an x. */
export interface Hovered {
  label: string;
  color: string;
  at: (x: number) => number | null;
}

export interface Lines {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  bands: uPlot.Band[];
  hovered: Hovered[];
  /** Points drawn (as read, before smoothing). */
  points: number;
}

/** `#rrggbb` with an alpha, for faint raw curves and bands. */
export function fade(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

const line = (label: string, stroke: string, width: number): uPlot.Series => ({
  label,
  stroke,
  width,
  spanGaps: true,
  points: { show: false },
});

/** The value of a run's own points nearest to `x` (the run may have no point at `x` itself). */
function valueNear(xs: Float64Array, ys: ArrayLike<number | null>) {
  return (x: number) => {
    const i = nearest(xs, x);
    const v = i < 0 ? null : ys[i];
    return v === null || v === undefined || !Number.isFinite(v) ? null : v;
  };
}

/** Points in a panel past which its run lines are drawn 1 px wide. */
export const THIN_ABOVE = 2000;

/** What a panel draws of `series` (one metric's, runs in order). */
export function buildLines(series: Series[], style: LineStyle): Lines {
  const grid = unionX(series);
  const points = series.reduce((n, s) => n + s.x.length, 0);
  const data: (ArrayLike<number | null> | Float64Array)[] = [grid];
  const opts: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  const hovered: Hovered[] = [];
  const smooth = style.smoothing > 0;
  // A run's line is 1.5 px, and 1 px in a panel of many points: a stroke of at most one device
  // pixel is drawn as a hairline, which software canvas (no GPU) draws 3-4x faster. 12 panels
  // of 20 runs x 1k points took 210 ms instead of 780 in Debian's chromium.
  const width = points > THIN_ABOVE ? 1 : 1.5;
  if (Object.keys(style.groups).length) {
    const members = new Map<string, (number | null)[][]>();
    for (const s of series) {
      const label = style.groups[s.run] ?? "(none)";
      const y = smooth ? ema(s.y, style.smoothing) : s.y;
      const list = members.get(label) ?? [];
      list.push(interp(grid, s.x, y));
      members.set(label, list);
    }
    for (const [label, ms] of members) {
      const color = style.groupColors[label] ?? "#4e79a7";
      const { mean, lo, hi } = aggregate(ms, grid.length);
      const top = data.length;
      data.push(hi, lo, mean);
      opts.push(line(`${label} max`, "transparent", 0), line(`${label} min`, "transparent", 0));
      opts.push(line(`${label} (${ms.length})`, color, 2));
      bands.push({ series: [top, top + 1], fill: fade(color, 0.18) });
      hovered.push({ label: `${label} (${ms.length})`, color, at: valueNear(grid, mean) });
    }
    return { data: data as uPlot.AlignedData, series: opts, bands, hovered, points };
  }
  if (smooth) {
    for (const s of series) {
      const color = style.colors[s.run] ?? "#4e79a7";
      data.push(place(grid, s.x, s.y));
      opts.push(line(`${style.names[s.run] ?? s.run} (raw)`, fade(color, 0.25), 1));
    }
  }
  for (const s of series) {
    const color = style.colors[s.run] ?? "#4e79a7";
    const label = style.names[s.run] ?? s.run;
    const y = smooth ? ema(s.y, style.smoothing) : s.y;
    data.push(place(grid, s.x, y));
    opts.push(line(label, color, width));
    hovered.push({ label, color, at: valueNear(s.x, y) });
  }
  return { data: data as uPlot.AlignedData, series: opts, bands, hovered, points };
}
