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
