// The filter builder: rows of field / operator / value in AND/OR/NOR groups, drawn from the
// model of filter_model.ts. The DOM is the state while the user edits: read() walks it back
// into a filter dict, so what is on screen is exactly what gets sent to Python.

import {
  GROUP_MODES,
  OPERATORS,
  clone,
  parse,
  serialize,
  type Cond,
  type Group,
  type Json,
  type JsonObject,
  type Node,
  type Operator,
} from "./filter_model";
import { h } from "./common";

/** A field the builder offers, with the type the server reported. */
export interface FieldInfo {
  name: string;
  type: "integer" | "number" | "string" | "bool" | "json" | "time" | "list";
}

type Kind = "string" | "number" | "boolean" | "null" | "array" | "object";

const OP_LABELS: Record<Operator, string> = {
  "=": "=",
  $eq: "$eq",
  $ne: "≠",
  $gt: ">",
  $gte: "≥",
  $lt: "<",
  $lte: "≤",
  $in: "in",
  $nin: "not in",
  $exists: "exists",
  $regex: "matches",
};

/** The plain fields every project has (filters.md), before config.* and summary_metrics.*. */
export const BASE_FIELDS: FieldInfo[] = [
  { name: "state", type: "string" },
  { name: "name", type: "string" },
  { name: "id", type: "string" },
  { name: "tags", type: "list" },
  { name: "group", type: "string" },
  { name: "job_type", type: "string" },
  { name: "username", type: "string" },
  { name: "host", type: "string" },
  { name: "notes", type: "string" },
  { name: "created_at", type: "time" },
  { name: "finished_at", type: "time" },
];

/** Base fields, then `config.<key>` and `summary_metrics.<key>` from the project's fields. */
export function fieldsFrom(projectFields: {
  config?: Record<string, string>;
  summary?: Record<string, string>;
}): FieldInfo[] {
  const out = [...BASE_FIELDS];
  for (const [k, t] of Object.entries(projectFields.config ?? {})) {
    out.push({ name: `config.${k}`, type: t as FieldInfo["type"] });
  }
  for (const [k, t] of Object.entries(projectFields.summary ?? {})) {
    out.push({ name: `summary_metrics.${k}`, type: t as FieldInfo["type"] });
  }
  return out;
}

function kindOf(v: Json): Kind {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v as Kind;
}

/** The kind a new value gets from its field's type and the operator. */
function defaultKind(field: FieldInfo | undefined, op: Operator): Kind {
  if (op === "$in" || op === "$nin") return "array";
  if (op === "$exists") return "boolean";
  if (op === "$regex") return "string";
  switch (field?.type) {
    case "integer":
    case "number":
      return "number";
    case "bool":
      return "boolean";
    default:
      return "string";
  }
}

function toText(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function fromText(text: string, kind: Kind): Json {
  switch (kind) {
    case "string":
      return text;
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && !Number.isNaN(n) ? n : text;
    }
    case "boolean":
      return text.trim() === "true";
    case "null":
      return text.trim() === "null" ? null : text;
    case "array":
    case "object":
      try {
        return JSON.parse(text) as Json;
      } catch {
        // "a, b, 3" for a list: comma-separated items, numbers where they read as numbers.
        if (kind === "array") {
          return text
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "")
            .map((s) => (s !== "" && !Number.isNaN(Number(s)) ? Number(s) : s));
        }
        return text;
      }
  }
}

export class FilterBuilder {
  readonly element: HTMLDivElement;
  private fields: FieldInfo[] = [...BASE_FIELDS];
  private onChange: (filter: JsonObject) => void;

  constructor(onChange: (filter: JsonObject) => void) {
    this.onChange = onChange;
    this.element = h("div", "ll-filter");
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

  private field(name: string): FieldInfo | undefined {
    return this.fields.find((f) => f.name === name);
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
      const row = this.condEl({ kind: "cond", field: f, op: "=", value: "" });
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
    if (node.kind === "cond") return this.condEl(node);
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

  private condEl(cond: Cond): HTMLElement {
    const row = h("div", "ll-cond");
    const field = h("select", "ll-field");
    const names = this.fields.map((f) => f.name);
    // A field the project does not list (yet) is still shown, never silently replaced.
    if (!names.includes(cond.field)) names.unshift(cond.field);
    for (const n of names) {
      const o = h("option", "", n);
      o.value = n;
      field.append(o);
    }
    field.value = cond.field;
    const op = h("select", "ll-op");
    for (const o of OPERATORS) {
      const opt = h("option", "", OP_LABELS[o]);
      opt.value = o;
      op.append(opt);
    }
    op.value = cond.op;
    const value = h("input", "ll-value");
    value.value = toText(cond.value);
    value.dataset.kind = kindOf(cond.value);
    value.placeholder = "value";
    const options = h("input", "ll-options");
    options.placeholder = "flags";
    options.size = 3;
    options.value = cond.options ?? "";
    options.dataset.present = cond.options !== undefined ? "1" : "";
    options.style.display = cond.op === "$regex" ? "" : "none";
    const retype = () => {
      value.dataset.kind = defaultKind(this.field(field.value), op.value as Operator);
      options.style.display = op.value === "$regex" ? "" : "none";
    };
    field.addEventListener("change", () => {
      retype();
      this.changed();
    });
    op.addEventListener("change", () => {
      retype();
      this.changed();
    });
    value.addEventListener("change", () => {
      if (value.value !== "") row.classList.remove("ll-pending");
      this.changed();
    });
    options.addEventListener("change", () => {
      options.dataset.present = "1";
      this.changed();
    });
    row.append(field, op, value, options, this.removeButton(row));
    return row;
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
      else if (c.classList.contains("ll-cond")) children.push(this.readCond(c));
      else if (c.classList.contains("ll-raw")) children.push(this.readRaw(c));
    }
    return {
      kind: "group",
      mode: (mode?.value ?? "$and") as Group["mode"],
      form: box.dataset.form === "list" ? "list" : "object",
      children,
    };
  }

  private readCond(row: HTMLElement): Cond {
    const q = <T extends Element>(s: string) => row.querySelector(s) as T;
    const value = q<HTMLInputElement>(".ll-value");
    const options = q<HTMLInputElement>(".ll-options");
    const op = q<HTMLSelectElement>(".ll-op").value as Operator;
    const cond: Cond = {
      kind: "cond",
      field: q<HTMLSelectElement>(".ll-field").value,
      op,
      value: fromText(value.value, (value.dataset.kind as Kind) ?? "string"),
    };
    if (op === "$regex" && options.dataset.present) cond.options = options.value;
    return cond;
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
