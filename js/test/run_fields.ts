// The plain run fields as a server sends them in `_fields.run` (the catalogue's order).
export const RUN: Record<string, string> = {
  state: "string", name: "string", id: "string", group: "string", job_type: "string",
  notes: "string", username: "string", host: "string", sweep: "string", tags: "list",
  created_at: "time", heartbeat_at: "time", finished_at: "time",
};
