// Selecting runs by clicking rows: a click toggles one run, a shift-click adds every run from
// the last clicked row to this one.

export class Selection {
  private anchor = -1; // last clicked row, for shift-click ranges

  /**
   * The selection after a click on row `i` (the run at `path`).
   *
   * `pathAt(k)` is the run at row `k`, or null when its page is not here (it is left out).
   */
  click(
    selected: string[],
    i: number,
    path: string,
    shift: boolean,
    pathAt: (k: number) => string | null,
  ): string[] {
    const sel = new Set(selected);
    if (shift && this.anchor >= 0) {
      const [a, b] = this.anchor < i ? [this.anchor, i] : [i, this.anchor];
      for (let k = a; k <= b; k++) {
        const p = pathAt(k);
        if (p !== null) sel.add(p);
      }
    } else if (sel.has(path)) {
      sel.delete(path);
    } else {
      sel.add(path);
    }
    this.anchor = i;
    return Array.from(sel);
  }
}
