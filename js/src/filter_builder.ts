// The filter builder: rows of field / operator / value in AND/OR/NOR groups, drawn from the
// model of filter_model.ts. The DOM is the state while the user edits: read() walks it back
// into a filter dict, so what is on screen is exactly what gets sent to Python. This module
// holds the groups and raw JSON parts; a condition row is filter_builder/condition.ts, the
// value's text and kind filter_builder/values.ts; the fields come from `_fields` (fields.ts).

import {
  GROUP_MODES,
  clone,
  parse,
  serialize,
  type Group,
  type Json,
  type JsonObject,
  type Node,
} from "./filter_model";
import { fieldsFrom, type FieldInfo } from "./fields";
import { h } from "./common";
import { condEl, readCond, type CondContext } from "./filter_builder/condition";

export { fieldsFrom, type FieldInfo };

export class FilterBuilder {
  readonly element: HTMLDivElement;
  private fields: FieldInfo[] = fieldsFrom({});
  private onChange: (filter: JsonObject) => void;
  private condContext: CondContext;

  constructor(onChange: (filter: JsonObject) => void) {
    this.onChange = onChange;
    this.element = h("div", "ll-filter");
    this.condContext = {
      fields: () => this.fields,
      changed: () => this.changed(),
      removeButton: (target) => this.removeButton(target),
    };
  }

  setFields(fields: FieldInfo[]): void {
    this.fields = fields;
  }

  /** Draw a filter (as Python set it). */
  show(filter: JsonObject | null | undefined): void {
    this.element.replaceChildren(this.groupEl(parse(filter), true));
  }

  /** The filter on screen, as a dict. */
  read(): JsonObject {
    const root = this.element.querySelector<HTMLElement>(":scope > .ll-group");
    if (!root) return {};
    return serialize(this.readGroup(root));
  }

  private changed(): void {
    this.onChange(this.read());
  }

  private groupEl(group: Group, root: boolean): HTMLElement {
    const box = h("div", "ll-group");
    box.dataset.form = group.form;
    const head = h("div", "ll-group-head");
    const mode = h("select", "ll-mode");
    for (const m of GROUP_MODES) {
      const o = h("option", "", { $and: "all of (AND)", $or: "any of (OR)", $nor: "none of (NOR)" }[m]);
      o.value = m;
      mode.append(o);
    }
    mode.value = group.mode;
    mode.addEventListener("change", () => this.changed());
    const addCond = h("button", "ll-add-cond", "+ condition");
    const addGroup = h("button", "ll-add-group", "+ group");
    const kids = h("div", "ll-children");
    addCond.addEventListener("click", () => {
      const f = this.fields[0]?.name ?? "state";
      const row = condEl({ kind: "cond", field: f, op: "=", value: "" }, this.condContext);
      // A new condition filters nothing until it has a value: choosing its field or operator
      // must not run a query for `field = ""` (and empty the table) on the way.
      row.classList.add("ll-pending");
      kids.append(row);
    });
    addGroup.addEventListener("click", () => {
      kids.append(this.groupEl({ kind: "group", mode: "$or", form: "list", children: [] }, false));
    });
    head.append(mode, addCond, addGroup);
    if (!root) head.append(this.removeButton(box));
    for (const child of group.children) kids.append(this.nodeEl(child));
    box.append(head, kids);
    return box;
  }

  private nodeEl(node: Node): HTMLElement {
    if (node.kind === "group") return this.groupEl(node, false);
    if (node.kind === "cond") return condEl(node, this.condContext);
    return this.rawEl(node.json);
  }

  private removeButton(target: HTMLElement): HTMLButtonElement {
    const b = h("button", "ll-remove", "×");
    b.title = "remove";
    b.addEventListener("click", () => {
      target.remove();
      this.changed();
    });
    return b;
  }

  private rawEl(json: JsonObject): HTMLElement {
    const row = h("div", "ll-raw");
    const label = h("span", "ll-raw-label", "kept as JSON:");
    const text = h("textarea", "ll-raw-json");
    text.value = JSON.stringify(json);
    text.dataset.orig = text.value;
    text.rows = 1;
    text.addEventListener("change", () => this.changed());
    row.append(label, text, this.removeButton(row));
    return row;
  }

  private readGroup(box: HTMLElement): Group {
    const mode = box.querySelector<HTMLSelectElement>(":scope > .ll-group-head > .ll-mode");
    const kids = box.querySelector<HTMLElement>(":scope > .ll-children");
    const children: Node[] = [];
    for (const child of Array.from(kids?.children ?? [])) {
      const c = child as HTMLElement;
      if (c.classList.contains("ll-group")) children.push(this.readGroup(c));
      else if (c.classList.contains("ll-pending")) continue; // no value yet
      else if (c.classList.contains("ll-cond")) children.push(readCond(c));
      else if (c.classList.contains("ll-raw")) children.push(this.readRaw(c));
    }
    return {
      kind: "group",
      mode: (mode?.value ?? "$and") as Group["mode"],
      form: box.dataset.form === "list" ? "list" : "object",
      children,
    };
  }

  private readRaw(row: HTMLElement): Node {
    const text = row.querySelector("textarea") as HTMLTextAreaElement;
    try {
      const json = JSON.parse(text.value) as Json;
      if (typeof json === "object" && json !== null && !Array.isArray(json)) {
        text.classList.remove("ll-invalid");
        return { kind: "raw", json };
      }
    } catch {
      // fall through: an edit that is not JSON keeps the last good value
    }
    text.classList.add("ll-invalid");
    return { kind: "raw", json: JSON.parse(text.dataset.orig ?? "{}") as JsonObject };
  }
}

export { clone };
