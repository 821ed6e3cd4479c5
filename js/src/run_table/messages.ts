// The messages the run table's view and the kernel exchange (widgets/run_table.py, _on_msg).

/** The kernel's answer to a page request; its one buffer holds the rows as Arrow IPC. */
export interface PageMsg {
  type: "page";
  query: number;
  offset: number;
  total: number;
}

/** The view's page request: rows `offset`..`offset + limit - 1` of query `query`. */
export interface PageRequest {
  type: "page";
  query: number;
  offset: number;
  limit: number;
}

/** The view's live refresh: read rows `offset`..`offset + limit - 1` again (they hold running
 * runs). The kernel answers with a `refresh` message shaped as a `PageMsg`, whose buffer
 * holds the rows; with no buffer when the read failed. */
export interface RefreshRequest {
  type: "refresh";
  query: number;
  offset: number;
  limit: number;
}

/** The kernel's answer to a refresh. */
export interface RefreshMsg {
  type: "refresh";
  query: number;
  offset: number;
  total?: number;
}
