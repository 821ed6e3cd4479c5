// One condition row of the filter builder: field, operator, value (and a `$regex`'s flags),
// drawn from a Cond and read back from the DOM into one.

import { OPERATORS, type Cond, type Operator } from "../filter_model";
import type { FieldInfo } from "../fields";
import { h } from "../common";
import { defaultKind, fromText, kindOf, toText, type Kind } from "./values";

const OP_LABELS: Record<Operator, string> = {
  "=": "=",
  $eq: "= ($eq)",
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

/** What a condition row needs of its builder. */
export interface CondContext {
  /** The builder's fields as they are now (they change when the project's do). */
  fields: () => FieldInfo[];
  /** The row changed: the builder reads the filter back and sends it. */
  changed: () => void;
  removeButton: (target: HTMLElement) => HTMLButtonElement;
}

/** The field choice: the builder's fields, and the condition's own when the project does not
 * list it (yet), so it is shown, never silently replaced. */
function fieldSelect(cond: Cond, fields: FieldInfo[]): HTMLSelectElement {
  const field = h("select", "ll-field");
  const names = fields.map((f) => f.name);
  if (!names.includes(cond.field)) names.unshift(cond.field);
  for (const n of names) {
    const o = h("option", "", n);
    o.value = n;
    field.append(o);
  }
  field.value = cond.field;
  return field;
}

/** The operators offered: each once (`=` is the plain form of `$eq`, which is listed only
 * for a condition Python set with it, so that it reads back unchanged). */
export function offeredOps(current: Operator): Operator[] {
  return OPERATORS.filter((o) => o !== "$eq" || current === "$eq");
}

/** The operator choice. */
function opSelect(cond: Cond): HTMLSelectElement {
  const op = h("select", "ll-op");
  for (const o of offeredOps(cond.op)) {
    const opt = h("option", "", OP_LABELS[o]);
    opt.value = o;
    op.append(opt);
  }
  op.value = cond.op;
  return op;
}

/** A condition row; its selects and input call `ctx.changed()` when the user edits them. */
export function condEl(cond: Cond, ctx: CondContext): HTMLElement {
  const row = h("div", "ll-cond");
  const field = fieldSelect(cond, ctx.fields());
  const op = opSelect(cond);
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
    const info = ctx.fields().find((f) => f.name === field.value);
    value.dataset.kind = defaultKind(info, op.value as Operator);
    options.style.display = op.value === "$regex" ? "" : "none";
  };
  field.addEventListener("change", () => {
    retype();
    ctx.changed();
  });
  op.addEventListener("change", () => {
    retype();
    ctx.changed();
  });
  value.addEventListener("change", () => {
    if (value.value !== "") row.classList.remove("ll-pending");
    ctx.changed();
  });
  options.addEventListener("change", () => {
    options.dataset.present = "1";
    ctx.changed();
  });
  row.append(field, op, value, options, ctx.removeButton(row));
  return row;
}

/** The condition a row shows, read from its DOM. */
export function readCond(row: HTMLElement): Cond {
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
