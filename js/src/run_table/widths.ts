// The width of each column: what the user dragged it to (`column_widths`), else one that fits
// its kind — the run's name in full, a state badge, a number, a time.

/** Narrowest a column may be dragged to. */
export const MIN_W = 48;
/** Widest a name column grows to fit its longest name. */
const NAME_MAX = 360;
/** Pixels per character of the table's 12px UI font (DejaVu Sans, the widest of the usual
 * ones, so a name is never cut), and a cell's padding. */
const CHAR_W = 7.3;
const PAD = 14;

/** The width a column takes before the user sizes it; `longest` is the length of the longest
 * text in it (the names of the runs read so far). */
export function defaultWidth(column: string, longest = 0): number {
  if (column === "name") return Math.min(Math.max(Math.ceil(longest * CHAR_W) + PAD, 120), NAME_MAX);
  if (column === "state") return 78;
  if (column.endsWith("_at")) return 142;
  if (column === "id") return 84;
  if (column.startsWith("summary.")) return 88;
  if (column.startsWith("config.")) return 96;
  return 110;
}

export class Widths {
  /** The longest name among the rows read; the name column fits it. */
  private longest = 0;

  /** `chosen()`: the widths the user set (`column_widths`). */
  constructor(private readonly chosen: () => Record<string, number>) {}

  /** A column's width in pixels. */
  of(column: string): number {
    return this.chosen()[column] ?? defaultWidth(column, this.longest);
  }

  /** Names seen in newly read rows: true when the name column grew to fit one. */
  fit(names: Iterable<unknown>): boolean {
    let grew = false;
    for (const n of names) {
      const len = n == null ? 0 : String(n).length;
      if (len > this.longest) {
        this.longest = len;
        grew = true;
      }
    }
    return grew;
  }

  /** Forget the names read (a new project). */
  reset(): void {
    this.longest = 0;
  }
}

/** A width as a cell's style: fixed, neither growing nor shrinking. */
export const flexOf = (w: number): string => `0 0 ${w}px`;
