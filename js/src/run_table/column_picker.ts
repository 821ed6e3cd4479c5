// The run table's column picker: a checkbox per column the project has (the run fields of
// `_fields.run`, then its config and summary keys, as fields.ts lists them), checked for those
// shown. A column turned on goes where it stands in that list, not at the end.

import { h } from "../common";
import { columnsFrom, type ProjectFields } from "../fields";

export class ColumnPicker {
  readonly element = h("div", "ll-picker");

  /** `columns()`: the columns shown now; `choose(columns)`: the user changed them. */
  constructor(
    private readonly columns: () => string[],
    private readonly choose: (columns: string[]) => void,
  ) {
    this.element.style.display = "none";
  }

  /** Show or hide the picker. */
  toggle(): void {
    this.element.style.display = this.element.style.display === "none" ? "" : "none";
  }

  /** Draw a checkbox per column of the project's `fields`. */
  draw(fields: ProjectFields): void {
    const all = columnsFrom(fields);
    const shown = new Set(this.columns());
    this.element.replaceChildren();
    for (const name of all) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = shown.has(name);
      box.dataset.column = name;
      box.addEventListener("change", () => {
        const now = this.columns().filter((c) => c !== name);
        // A shown column the project does not list (set from Python) stays, after them.
        const next = box.checked
          ? [...all.filter((c) => now.includes(c) || c === name), ...now.filter((c) => !all.includes(c))]
          : now;
        this.choose(next);
      });
      label.append(box, ` ${name}`);
      this.element.append(label);
    }
  }
}
