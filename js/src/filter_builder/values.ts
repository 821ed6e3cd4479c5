// A condition's value as the builder edits it: the kind a value has (string, number, list ...),
// the kind a new value gets from its field and operator, and the text of a value in its input
// box and back. The kind rides on the input (`data-kind`), so the text reads back as it came.

import type { FieldInfo } from "../fields";
import type { Json, Operator } from "../filter_model";

/** The JSON kind of a value, as kept on its input box. */
export type Kind = "string" | "number" | "boolean" | "null" | "array" | "object";

/** The kind of a value as Python set it, so it reads back as the same kind. */
export function kindOf(v: Json): Kind {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v as Kind;
}

/** The kind a new value gets from its field's type and the operator. */
export function defaultKind(field: FieldInfo | undefined, op: Operator): Kind {
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

/** A value as the text of its input box: strings as they are, the rest as JSON. */
export function toText(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The text of an input box as a value of `kind` (a number, null or JSON that does not parse
 * stays text; a list may also be written "a, b, 3"). */
export function fromText(text: string, kind: Kind): Json {
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
        const parsed = JSON.parse(text) as Json;
        // One value typed for `in`/`not in` is a list of one.
        return kind === "array" && !Array.isArray(parsed) ? [parsed] : parsed;
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
