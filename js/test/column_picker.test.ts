import { describe, expect, it } from "vitest";
import { columnsFrom } from "../src/fields";
import { ColumnPicker } from "../src/run_table/column_picker";
import { RUN } from "./run_fields";

const boxes = (picker: ColumnPicker) =>
  Array.from(picker.element.querySelectorAll<HTMLInputElement>("input[type=checkbox]"));

describe("the run table's column picker", () => {
  it("lists the run fields of `_fields.run` in their order, then config and summary keys", () => {
    const picker = new ColumnPicker(() => ["name", "config.lr"], () => undefined);
    picker.draw({ run: RUN, config: { lr: "number" }, summary: { "val/acc": "number" } });
    expect(boxes(picker).map((b) => b.dataset.column)).toEqual([
      ...Object.keys(RUN), "config.lr", "summary.val/acc",
    ]);
    expect(boxes(picker).filter((b) => b.checked).map((b) => b.dataset.column))
      .toEqual(["name", "config.lr"]);
  });

  it("falls back to name, state and created_at when the server sends no `run`", () => {
    expect(columnsFrom({ summary: { loss: "number" } }))
      .toEqual(["state", "name", "created_at", "summary.loss"]);
  });

  it("puts a column turned on where it stands in the list, and takes one off", () => {
    let columns = ["name", "summary.loss"];
    const picker = new ColumnPicker(() => columns, (c) => (columns = c));
    picker.draw({ run: { state: "string", name: "string", heartbeat_at: "time" },
      summary: { loss: "number" } });
    const box = (c: string) => boxes(picker).find((b) => b.dataset.column === c) as HTMLInputElement;
    box("heartbeat_at").checked = true;
    box("heartbeat_at").dispatchEvent(new Event("change"));
    expect(columns).toEqual(["name", "heartbeat_at", "summary.loss"]);
    box("name").checked = false;
    box("name").dispatchEvent(new Event("change"));
    expect(columns).toEqual(["heartbeat_at", "summary.loss"]);
  });

  it("keeps a shown column the project does not list when another is turned on", () => {
    let columns = ["name", "tags"]; // set from Python; an old server lists no `tags`
    const picker = new ColumnPicker(() => columns, (c) => (columns = c));
    picker.draw({});
    const state = boxes(picker).find((b) => b.dataset.column === "state") as HTMLInputElement;
    state.checked = true;
    state.dispatchEvent(new Event("change"));
    expect(columns).toEqual(["state", "name", "tags"]);
  });

  it("shows and hides itself", () => {
    const picker = new ColumnPicker(() => [], () => undefined);
    expect(picker.element.style.display).toBe("none");
    picker.toggle();
    expect(picker.element.style.display).toBe("");
    picker.toggle();
    expect(picker.element.style.display).toBe("none");
  });
});
