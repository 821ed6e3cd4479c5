import { describe, expect, it } from "vitest";
import { FilterBuilder, fieldsFrom } from "../src/filter_builder";
import { parse, serialize, type JsonObject } from "../src/filter_model";
import { RUN } from "./run_fields";

const fields = fieldsFrom({
  run: RUN,
  config: { lr: "number", batch_size: "integer", "optim.name": "string", layers: "json" },
  summary: { loss: "number", done: "bool" },
});

/** dict -> UI (the DOM) -> dict. */
function throughUi(filter: JsonObject): JsonObject {
  const b = new FilterBuilder(() => undefined);
  b.setFields(fields);
  document.body.replaceChildren(b.element);
  b.show(filter);
  return b.read();
}

const cases: Record<string, JsonObject> = {
  "plain =": { state: "FINISHED" },
  "plain = number": { "config.batch_size": 64 },
  "plain = numeric string (SwanLab)": { "config.batch_size": "64" },
  "plain = bool": { "summary_metrics.done": true },
  "plain = null": { group: null },
  $eq: { name: { $eq: "baseline" } },
  $ne: { state: { $ne: "CRASHED" } },
  $gt: { "config.lr": { $gt: 0.01 } },
  $gte: { "summary_metrics.loss": { $gte: 0.5 } },
  $lt: { "config.lr": { $lt: 1 } },
  $lte: { "config.batch_size": { $lte: 128 } },
  $in: { tags: { $in: ["baseline", "best"] } },
  "$in numbers": { "config.batch_size": { $in: [32, 64] } },
  $nin: { state: { $nin: ["CRASHED", "ABORTED"] } },
  $exists: { "config.optim.name": { $exists: true } },
  "$exists false": { "summary_metrics.loss": { $exists: false } },
  $regex: { name: { $regex: "^lr-0\\.0" } },
  "$regex $options": { name: { $regex: "BASE", $options: "i" } },
  "range on one field": { "config.lr": { $gte: 0.001, $lt: 0.1 } },
  "several fields": { state: "FINISHED", "config.lr": { $gt: 0.01 }, tags: "baseline" },
  $and: { $and: [{ "config.lr": { $gt: 0.01 } }, { state: "FINISHED" }] },
  $or: { $or: [{ "config.lr": { $lt: 0.01 } }, { tags: { $in: ["baseline"] } }] },
  $nor: { $nor: [{ state: "CRASHED" }, { "summary_metrics.loss": { $gt: 10 } }] },
  nested: {
    $and: [
      { $or: [{ "config.lr": 0.1 }, { "config.lr": 0.01 }] },
      { state: "FINISHED", "config.batch_size": { $in: [32, 64] } },
    ],
  },
  "object with a group key": { state: "FINISHED", $or: [{ tags: "a" }, { tags: "b" }] },
  "unknown field kept": { "config.not_logged_yet": { $gt: 3 } },
  "list equality": { "config.layers": [64, 32] },
  empty: {},
};

// What the builder cannot show as rows: kept verbatim as raw JSON.
const raw: Record<string, JsonObject> = {
  $not: { "config.lr": { $not: { $gt: 0.1 } } },
  "top-level $not": { $not: { state: "FINISHED" } },
  "unknown operator": { tags: { $size: 2 } },
  "empty $or": { $or: [] },
  "raw next to rows": { state: "FINISHED", "config.lr": { $elemMatch: { $gt: 1 } } },
};

describe("filter builder round trip (dict -> UI -> dict)", () => {
  for (const [name, filter] of Object.entries({ ...cases, ...raw })) {
    it(name, () => {
      expect(serialize(parse(filter))).toEqual(filter);
      expect(throughUi(filter)).toEqual(filter);
    });
  }

  it("shows what it cannot draw as JSON instead of dropping it", () => {
    throughUi(raw["raw next to rows"]);
    const texts = Array.from(document.querySelectorAll("textarea")).map((t) => t.value);
    expect(texts).toEqual([JSON.stringify({ "config.lr": { $elemMatch: { $gt: 1 } } })]);
    expect(document.querySelectorAll(".ll-cond").length).toBe(1);
  });

  it("draws one row per operator", () => {
    throughUi(cases["range on one field"]);
    const ops = Array.from(document.querySelectorAll<HTMLSelectElement>(".ll-op")).map((s) => s.value);
    expect(ops).toEqual(["$gte", "$lt"]);
  });
});

describe("editing in the UI writes the filter", () => {
  it("adds a condition typed from the field, applied once it has a value", () => {
    let last: JsonObject | undefined;
    const sent: JsonObject[] = [];
    const b = new FilterBuilder((f) => sent.push((last = f)));
    b.setFields(fields);
    document.body.replaceChildren(b.element);
    b.show({ state: "FINISHED" });
    (document.querySelector(".ll-add-cond") as HTMLButtonElement).click();
    const field = document.querySelectorAll(".ll-field")[1] as HTMLSelectElement;
    field.value = "config.lr";
    field.dispatchEvent(new Event("change"));
    const op = document.querySelectorAll(".ll-op")[1] as HTMLSelectElement;
    op.value = "$gte";
    op.dispatchEvent(new Event("change"));
    // Without a value the new condition is left out: the filter stays what it was.
    expect(sent).toEqual([{ state: "FINISHED" }, { state: "FINISHED" }]);
    const value = document.querySelectorAll(".ll-value")[1] as HTMLInputElement;
    value.value = "0.01";
    value.dispatchEvent(new Event("change"));
    expect(last).toEqual({ state: "FINISHED", "config.lr": { $gte: 0.01 } });
  });

  it("says two equalities on one field with $and", () => {
    const b = new FilterBuilder(() => undefined);
    b.setFields(fields);
    document.body.replaceChildren(b.element);
    b.show({ tags: "a" });
    (document.querySelector(".ll-add-cond") as HTMLButtonElement).click();
    const rows = document.querySelectorAll(".ll-cond");
    const field = rows[1].querySelector(".ll-field") as HTMLSelectElement;
    field.value = "tags";
    const value = rows[1].querySelector(".ll-value") as HTMLInputElement;
    value.value = "b";
    value.dispatchEvent(new Event("change"));
    expect(b.read()).toEqual({ $and: [{ tags: "a" }, { tags: "b" }] });
  });

  it("switches a group to OR", () => {
    const b = new FilterBuilder(() => undefined);
    document.body.replaceChildren(b.element);
    b.show({ $and: [{ state: "FINISHED" }, { tags: "x" }] });
    const mode = document.querySelector(".ll-mode") as HTMLSelectElement;
    mode.value = "$or";
    expect(b.read()).toEqual({ $or: [{ state: "FINISHED" }, { tags: "x" }] });
  });
});

describe("the builder's fields come from the model's `_fields`", () => {
  const options = (b: FilterBuilder) => {
    document.body.replaceChildren(b.element);
    b.show({});
    (document.querySelector(".ll-add-cond") as HTMLButtonElement).click();
    const field = document.querySelector(".ll-field") as HTMLSelectElement;
    return { names: Array.from(field.options).map((o) => o.value), chosen: field.value };
  };

  it("offers the run fields of `_fields.run` in their order, then config and summary keys", () => {
    const b = new FilterBuilder(() => undefined);
    b.setFields(fieldsFrom({ run: { state: "string", sweep: "string", heartbeat_at: "time" },
      config: { lr: "number" }, summary: { loss: "number" } }));
    expect(options(b)).toEqual({
      names: ["state", "sweep", "heartbeat_at", "config.lr", "summary.loss"],
      chosen: "state",
    });
  });

  it("keeps each field's type, so a new value reads as its field's kind", () => {
    expect(fieldsFrom({ run: { tags: "list", created_at: "time" }, config: { bs: "integer" } }))
      .toEqual([
        { name: "tags", type: "list" },
        { name: "created_at", type: "time" },
        { name: "config.bs", type: "integer" },
      ]);
    const b = new FilterBuilder(() => undefined);
    b.setFields(fields);
    options(b);
    const field = document.querySelector(".ll-field") as HTMLSelectElement;
    field.value = "config.batch_size";
    field.dispatchEvent(new Event("change"));
    const value = document.querySelector(".ll-value") as HTMLInputElement;
    value.value = "64";
    value.dispatchEvent(new Event("change"));
    expect(b.read()).toEqual({ "config.batch_size": 64 });
  });

  it("falls back to name, state and created_at when the server sends no `run`", () => {
    expect(fieldsFrom({ config: { lr: "number" } }).map((f) => f.name))
      .toEqual(["state", "name", "created_at", "config.lr"]);
    expect(options(new FilterBuilder(() => undefined)).names).toEqual(["state", "name", "created_at"]);
  });
});
