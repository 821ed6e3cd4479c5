// The run-field vocabulary as the widget model carries it: `_fields`, synced from Python's
// `project.fields()`, lists the plain run fields (`run`, in the server's catalogue order) and
// the project's config and summary keys, each with its type. The filter builder and the run
// table's column picker both read their fields from here, so neither keeps a list of its own.

/** A field's type as the server reports it. */
export type FieldType = "integer" | "number" | "string" | "bool" | "json" | "time" | "list";

/** The `_fields` trait: `{run: {name: type}, config: {key: type}, summary: {key: type}}`. */
export interface ProjectFields {
  run?: Record<string, string>;
  config?: Record<string, string>;
  summary?: Record<string, string>;
}

/** A field the filter builder offers, with the type the server reported. */
export interface FieldInfo {
  name: string;
  type: FieldType;
}

/** The run fields of a server that does not send `run` (an older one): only those every
 * lablens server has had, in catalogue order. */
export const FALLBACK_RUN_FIELDS: Readonly<Record<string, FieldType>> = {
  state: "string",
  name: "string",
  created_at: "time",
};

/** The plain run fields, in the order the server lists them (the fallback without `run`). */
export function runFields(fields: ProjectFields): FieldInfo[] {
  const run = fields.run ?? FALLBACK_RUN_FIELDS;
  return Object.entries(run).map(([name, type]) => ({ name, type: type as FieldType }));
}

/** What the filter builder offers: the run fields, then `config.<key>` and `summary.<key>`
 * from the project's fields — the names the table's columns have (the filter language also
 * takes W&B's `summary_metrics.<key>`, and a filter set from Python keeps its spelling). */
export function fieldsFrom(fields: ProjectFields): FieldInfo[] {
  const out = runFields(fields);
  for (const [k, t] of Object.entries(fields.config ?? {})) {
    out.push({ name: `config.${k}`, type: t as FieldType });
  }
  for (const [k, t] of Object.entries(fields.summary ?? {})) {
    out.push({ name: `summary.${k}`, type: t as FieldType });
  }
  return out;
}

/** What the column picker offers: the run fields, then `config.<key>` and `summary.<key>`
 * (the run table's column names). */
export function columnsFrom(fields: ProjectFields): string[] {
  return [
    ...runFields(fields).map((f) => f.name),
    ...Object.keys(fields.config ?? {}).map((k) => `config.${k}`),
    ...Object.keys(fields.summary ?? {}).map((k) => `summary.${k}`),
  ];
}
