// The filter builder's model: a MongoDB-style filter dict <-> a tree of groups and conditions.
//
// parse() and serialize() are exact inverses on every filter they accept: the builder must
// give back the very dict Python set (same keys, same form), or a round trip through the UI
// would change the query behind the user's back. What the tree cannot express ($not, unknown
// operators, odd shapes) becomes a Raw node that keeps its JSON untouched.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Operators on a field. `=` is the plain-value form `{field: value}`. */
export const OPERATORS = [
  "=",
  "$eq",
  "$ne",
  "$gt",
  "$gte",
  "$lt",
  "$lte",
  "$in",
  "$nin",
  "$exists",
  "$regex",
] as const;
export type Operator = (typeof OPERATORS)[number];

export const GROUP_MODES = ["$and", "$or", "$nor"] as const;
export type GroupMode = (typeof GROUP_MODES)[number];

export interface Cond {
  kind: "cond";
  field: string;
  op: Operator;
  value: Json;
  /** `$options` of a `$regex` (e.g. "i"), when given. */
  options?: string;
}

export interface Group {
  kind: "group";
  mode: GroupMode;
  /**
   * "object": an implicit AND written as one object with several keys ({a: 1, b: {$gt: 2}});
   * "list": the explicit `{$and: [...]}` form. Kept so that serialize(parse(f)) is f.
   */
  form: "object" | "list";
  children: Node[];
}

/** A part the builder cannot show as rows; kept verbatim and shown as JSON. */
export interface Raw {
  kind: "raw";
  json: JsonObject;
}

export type Node = Cond | Group | Raw;

const FIELD_OPS = new Set<string>(OPERATORS.filter((o) => o !== "="));

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Conditions for one `field: spec` entry, or null when the spec is not expressible. */
function parseField(field: string, spec: Json): Cond[] | null {
  if (!isObject(spec)) return [{ kind: "cond", field, op: "=", value: spec }];
  const keys = Object.keys(spec);
  if (keys.length === 0 || !keys.every((k) => k.startsWith("$"))) {
    // An object value without operators is an equality on an object: plain `=`.
    return keys.some((k) => k.startsWith("$")) ? null : [{ kind: "cond", field, op: "=", value: spec }];
  }
  if (keys.includes("$options") && !keys.includes("$regex")) return null;
  const out: Cond[] = [];
  for (const k of keys) {
    if (k === "$options") continue;
    if (!FIELD_OPS.has(k)) return null;
    const cond: Cond = { kind: "cond", field, op: k as Operator, value: spec[k] };
    if (k === "$regex" && keys.includes("$options")) {
      if (typeof spec.$options !== "string") return null;
      cond.options = spec.$options;
    }
    if ((k === "$in" || k === "$nin") && !Array.isArray(spec[k])) return null;
    out.push(cond);
  }
  return out;
}

function parseList(mode: GroupMode, items: Json): Group | null {
  if (!Array.isArray(items) || items.length === 0 || !items.every(isObject)) return null;
  return { kind: "group", mode, form: "list", children: items.map((f) => parseNode(f as JsonObject)) };
}

function parseNode(filter: JsonObject): Node {
  const keys = Object.keys(filter);
  if (keys.length === 1 && GROUP_MODES.includes(keys[0] as GroupMode)) {
    return parseList(keys[0] as GroupMode, filter[keys[0]]) ?? { kind: "raw", json: filter };
  }
  return parseObject(filter);
}

function parseObject(filter: JsonObject): Group {
  const children: Node[] = [];
  for (const [key, spec] of Object.entries(filter)) {
    if (GROUP_MODES.includes(key as GroupMode)) {
      children.push(parseList(key as GroupMode, spec) ?? { kind: "raw", json: { [key]: spec } });
    } else if (key.startsWith("$")) {
      children.push({ kind: "raw", json: { [key]: spec } });
    } else {
      const conds = parseField(key, spec);
      if (conds) children.push(...conds);
      else children.push({ kind: "raw", json: { [key]: spec } });
    }
  }
  return { kind: "group", mode: "$and", form: "object", children };
}

/** The builder's tree for a filter; the root is always a group. `null`/`{}` is an empty AND. */
export function parse(filter: JsonObject | null | undefined): Group {
  if (!filter || Object.keys(filter).length === 0) {
    return { kind: "group", mode: "$and", form: "object", children: [] };
  }
  const node = parseNode(filter);
  if (node.kind === "group") return node;
  return { kind: "group", mode: "$and", form: "object", children: [node] };
}

function condSpec(c: Cond): Json {
  if (c.op === "=") return c.value;
  const spec: JsonObject = { [c.op]: c.value };
  if (c.op === "$regex" && c.options !== undefined) spec.$options = c.options;
  return spec;
}

/** Merge a node into an object-form AND; false when a key would collide. */
function mergeInto(obj: JsonObject, node: Node): boolean {
  if (node.kind === "raw") {
    for (const k of Object.keys(node.json)) if (k in obj) return false;
    Object.assign(obj, node.json);
    return true;
  }
  if (node.kind === "group") {
    if (node.mode in obj) return false;
    obj[node.mode] = node.children.map(serializeNode);
    return true;
  }
  const spec = condSpec(node);
  if (!(node.field in obj)) {
    obj[node.field] = spec;
    return true;
  }
  // Two operators on one field share its object: {x: {$gt: 1, $lt: 5}}.
  const prev = obj[node.field];
  if (node.op === "=" || !isObject(prev) || !isObject(spec)) return false;
  if (!Object.keys(prev).every((k) => k.startsWith("$"))) return false;
  if (Object.keys(spec).some((k) => k in prev)) return false;
  Object.assign(prev, spec);
  return true;
}

function serializeNode(node: Node): JsonObject {
  if (node.kind === "raw") return node.json;
  if (node.kind === "cond") return { [node.field]: condSpec(node) };
  if (node.mode === "$and" && node.form === "object") {
    const obj: JsonObject = {};
    if (node.children.every((c) => mergeInto(obj, c))) return obj;
    // Conditions added in the UI can collide (two `=` on one field): say it with $and.
  }
  if (node.mode === "$and" && node.children.length === 0) return {};
  return { [node.mode]: node.children.map(serializeNode) };
}

/** The filter dict of a tree; an empty tree is `{}`. */
export function serialize(root: Group): JsonObject {
  return serializeNode(root);
}

/** A copy of a node tree (the builder edits copies, never the parsed input). */
export function clone<T extends Node>(node: T): T {
  return JSON.parse(JSON.stringify(node)) as T;
}
