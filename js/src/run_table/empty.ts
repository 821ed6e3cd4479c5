// What the run table says in place of rows when it has none: why, and what to do about it.

import type { JsonObject } from "../filter_model";

/** What the table knows when it has no rows. */
export interface EmptyState {
  project: string;
  total: number;
  filters: JsonObject;
  error: string;
  loading: boolean;
}

/** The line shown in place of the rows, or "" when there are rows (or the error says it). */
export function emptyText(s: EmptyState): string {
  if (!s.project) return s.error ? "" : "No project shown: pick one in the workspace tree.";
  if (s.error) return ""; // the problem is named under the filter
  if (s.total > 0) return "";
  if (s.loading) return "Loading runs…";
  if (Object.keys(s.filters).length) {
    return `No run matches the filter ${JSON.stringify(s.filters)}.`;
  }
  const name = s.project.split("/").pop() ?? s.project;
  return `No runs in ${s.project} yet — log one with lablens.init(project="${name}").`;
}
