// The points of a panel grid as the page holds them, and the maths on them: decoding the two
// Float64 buffers Python sends, appending live points, putting a panel's runs on one x grid
// (uPlot draws aligned data), EMA smoothing, and a group's mean and min/max band.

/** One run's points of one metric, x ascending. */
export interface Series {
  run: string;
  key: string;
  x: Float64Array;
  y: Float64Array;
}

/** What Python says of each slice of the buffers. */
export interface SeriesIndex {
  run: string;
  key: string;
  n: number;
  /** The index of an earlier series whose x values these are (not in the x buffer again). */
  x?: number;
}

/** A buffer as a widget message carries it (a DataView, an ArrayBuffer or a typed array). */
export type Buffer = ArrayBuffer | ArrayBufferView;

function floats(buf: Buffer | undefined): Float64Array {
  if (!buf) return new Float64Array(0);
  if (buf instanceof ArrayBuffer) return new Float64Array(buf);
  // A view on whole float64s is read in place; one starting at any other byte is copied, so
  // the Float64Array is aligned.
  const { buffer, byteOffset, byteLength } = buf;
  if (byteOffset % 8 === 0) return new Float64Array(buffer, byteOffset, byteLength / 8);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
  return new Float64Array(bytes.buffer, 0, bytes.byteLength / 8);
}

/** The series of a data message: the index cut out of the x and y buffers. */
export function decode(index: SeriesIndex[], xbuf?: Buffer, ybuf?: Buffer): Series[] {
  const xs = floats(xbuf);
  const ys = floats(ybuf);
  const out: Series[] = [];
  let at = 0;
  let xat = 0;
  for (const s of index) {
    let x: Float64Array;
    if (s.x !== undefined && out[s.x]) x = out[s.x].x;
    else {
      x = xs.subarray(xat, xat + s.n);
      xat += s.n;
    }
    out.push({ run: s.run, key: s.key, x, y: ys.subarray(at, at + s.n) });
    at += s.n;
  }
  return out;
}

const id = (run: string, key: string) => `${run}\u0000${key}`;

/** Every series held, by run and metric. */
export class Store {
  private byId = new Map<string, Series>();

  /** Replace everything with a full answer. */
  reset(series: Series[]): void {
    this.byId.clear();
    for (const s of series) this.byId.set(id(s.run, s.key), s);
  }

  /** Add a live answer's points after those held (Python sends only what is new). */
  append(series: Series[]): void {
    for (const s of series) {
      const held = this.byId.get(id(s.run, s.key));
      if (!held) {
        this.byId.set(id(s.run, s.key), s);
        continue;
      }
      const x = new Float64Array(held.x.length + s.x.length);
      const y = new Float64Array(held.y.length + s.y.length);
      x.set(held.x);
      x.set(s.x, held.x.length);
      y.set(held.y);
      y.set(s.y, held.y.length);
      this.byId.set(id(s.run, s.key), { run: s.run, key: s.key, x, y });
    }
  }

  /** The series of one metric, runs in the order given (runs without points left out). */
  of(key: string, runs: string[]): Series[] {
    const out: Series[] = [];
    for (const r of runs) {
      const s = this.byId.get(id(r, key));
      if (s && s.x.length) out.push(s);
    }
    return out;
  }

  /** How many points are held for one metric (of the runs given). */
  points(key: string, runs: string[]): number {
    return this.of(key, runs).reduce((n, s) => n + s.x.length, 0);
  }
}

/** The sorted union of the series' x values. */
export function unionX(series: Series[]): Float64Array {
  // Runs logged at the same steps come with the same x array (Python sends it once): that
  // array is the union, no sort needed.
  if (series.length && series.every((s) => s.x === series[0].x)) return series[0].x;
  let n = 0;
  for (const s of series) n += s.x.length;
  const all = new Float64Array(n);
  let at = 0;
  for (const s of series) {
    all.set(s.x, at);
    at += s.x.length;
  }
  all.sort();
  let u = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[u - 1]) all[u++] = all[i];
  return all.slice(0, u);
}

/** `y` placed on `grid` (a superset of `x`): null where the series has no point or no number.
 * A series on the grid itself whose every value is a number is `y` as it is (no copy). */
export function place(
  grid: Float64Array,
  x: Float64Array,
  y: ArrayLike<number | null>,
): ArrayLike<number | null> {
  if (x === grid && y instanceof Float64Array && allFinite(y)) return y;
  const out: (number | null)[] = new Array(grid.length);
  if (x === grid) {
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      out[i] = v !== null && Number.isFinite(v) ? v : null;
    }
    return out;
  }
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    while (j < grid.length && grid[j] < x[i]) out[j++] = null;
    if (j < grid.length && grid[j] === x[i]) {
      const v = y[i];
      out[j++] = v !== null && Number.isFinite(v) ? v : null;
    }
  }
  while (j < grid.length) out[j++] = null;
  return out;
}

function allFinite(y: Float64Array): boolean {
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) return false;
  return true;
}

/** EMA with TensorBoard's debiasing (as `widgets/chart/smoothing.py`); gaps stay gaps. */
export function ema(y: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(y.length).fill(null);
  if (weight <= 0) {
    for (let i = 0; i < y.length; i++) out[i] = y[i];
    return out;
  }
  let last = 0;
  let w = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || !Number.isFinite(v)) continue;
    last = last * weight + (1 - weight) * v;
    w = w * weight + (1 - weight);
    out[i] = last / w;
  }
  return out;
}

/** A series linearly interpolated on `grid`, inside its own x range (null outside). */
export function interp(grid: Float64Array, x: Float64Array, y: ArrayLike<number | null>) {
  const out: (number | null)[] = new Array(grid.length).fill(null);
  let j = 0;
  for (let i = 0; i < grid.length; i++) {
    const g = grid[i];
    if (!x.length || g < x[0] || g > x[x.length - 1]) continue;
    while (j < x.length - 1 && x[j + 1] < g) j++;
    const a = y[j];
    if (x[j] === g) {
      out[i] = a === null || !Number.isFinite(a) ? null : a;
      continue;
    }
    const b = y[j + 1];
    if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) continue;
    const t = (g - x[j]) / (x[j + 1] - x[j]);
    out[i] = a + (b - a) * t;
  }
  return out;
}

/** Per x of the grid, the mean, min and max of the members' values there (null: none). */
export function aggregate(members: (number | null)[][], n: number) {
  const mean: (number | null)[] = new Array(n).fill(null);
  const lo: (number | null)[] = new Array(n).fill(null);
  const hi: (number | null)[] = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const m of members) {
      const v = m[i];
      if (v === null) continue;
      sum += v;
      count++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (count) {
      mean[i] = sum / count;
      lo[i] = min;
      hi[i] = max;
    }
  }
  return { mean, lo, hi };
}

/** The index of the point of `x` (ascending) nearest to `v`, or -1 when `x` is empty. */
export function nearest(x: ArrayLike<number>, v: number): number {
  if (!x.length) return -1;
  let lo = 0;
  let hi = x.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(x[lo - 1] - v) <= Math.abs(x[lo] - v)) return lo - 1;
  return lo;
}
