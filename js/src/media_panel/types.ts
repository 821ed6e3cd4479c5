// What the media panel's kernel side sends (widgets/media_panel.py, widgets/media/cells.py).

/** Bytes as ipywidgets hands them over from a trait: a DataView (or a buffer, or an array). */
export type Bytes = DataView | ArrayBuffer | Uint8Array;

/** An entry of the key picker. */
export interface KeyEntry {
  key: string;
  type: string;
  runs: number;
  count: number;
}

/** A run column's title. */
export interface Column {
  path: string;
  id: string;
  name: string;
  color: string;
}

/** One thumbnail; `n` is the item's place in the kernel's `items`. */
export interface ImageCell {
  n: number;
  index: number;
  caption: string | null;
  width: number;
  height: number;
  thumb_width: number;
  thumb_height: number;
  png: Bytes;
}

/** One page of a table: its rows as Arrow IPC. */
export interface TableCell {
  n: number;
  caption: string | null;
  columns: string[];
  total: number;
  page: number;
  pages: number;
  arrow: Bytes;
}

/** Audio, video, text, HTML or a plotly figure's JSON. */
export interface OtherCell {
  n: number;
  caption: string | null;
  format: string;
  meta: Record<string, number | string>;
  bytes?: Bytes;
  text?: string;
}

/** A run's histograms over steps: per step, its counts and bin edges. */
export interface HistCell {
  steps: number[];
  counts: number[][];
  edges: number[][];
  /** How many steps there are; more than `steps` holds when the kernel thinned them. */
  of?: number;
}

/** What one run column shows at the step (or, for a histogram key, over every step). */
export interface RunCell {
  more?: number;
  items?: (ImageCell | TableCell | OtherCell)[];
  steps?: number[];
  counts?: number[][];
  edges?: number[][];
  of?: number;
}

/** What the columns show; `empty` says why there is nothing to show. */
export interface View {
  key?: string;
  type?: string;
  step?: number | null;
  empty?: "no-runs" | "no-media" | "unknown-key";
  cells?: Record<string, RunCell>;
}

/** The image opened at full size. */
export interface Full {
  n?: number;
  run?: string;
  step?: number;
  caption?: string | null;
  width?: number;
  height?: number;
  png?: Bytes;
}

/** The bytes as a Uint8Array, whatever ipywidgets wrapped them in. */
export function toBytes(b: Bytes): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** A URL of the bytes with a MIME type: a blob URL (revoked by `urls.clear()`), or a data URL
 * where blob URLs do not exist (jsdom). */
export class Urls {
  private made: string[] = [];

  of(b: Bytes, mime: string): string {
    const bytes = toBytes(b);
    if (typeof URL.createObjectURL === "function") {
      const copy = new Uint8Array(bytes); // a view into a larger buffer would leak the rest
      const url = URL.createObjectURL(new Blob([copy], { type: mime }));
      this.made.push(url);
      return url;
    }
    let s = "";
    for (const x of bytes) s += String.fromCharCode(x);
    return `data:${mime};base64,${btoa(s)}`;
  }

  clear(): void {
    for (const u of this.made) URL.revokeObjectURL(u);
    this.made = [];
  }
}
