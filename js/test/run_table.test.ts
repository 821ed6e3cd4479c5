import { describe, expect, it } from "vitest";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import widget, { type Model } from "../src/run_table";
import { fakeModel } from "./fake_model";
import { RUN } from "./run_fields";

/** The table's model with these traits set, and `answer`: the kernel's reply to a page
 * request, rows `from`..`from + n - 1` of the query as one Arrow buffer. */
function fake(init: Partial<Model>) {
  const f = fakeModel<Model>({
    path: "alice/p", filters: {}, order: "+created_at", columns: ["name"], selected: [],
    total: 0, code: "", error: "", _fields: {}, _project: "alice/p", _query: 1, _page_size: 100,
    column_widths: {}, run_colors: {}, live: true, _same: {}, _loading: false,
    ...init,
  });
  const answer = (query: number, from: number, n: number) => {
    const ids = Array.from({ length: n }, (_, i) => `r${from + i}`);
    const ipc = tableToIPC(tableFromArrays({ id: ids, name: ids.map((id) => `run ${id}`) }));
    const msg = { type: "page", query, offset: from, total: f.state.total };
    f.emit("msg:custom", msg, [new DataView(ipc.buffer)]);
  };
  return { ...f, answer };
}

const frame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

describe("RunTable view", () => {
  it("asks for the page in sight and the next one as one range", () => {
    const { model, sent } = fake({ total: 10_000 });
    widget.render({ model, el: document.createElement("div") });
    expect(sent).toEqual([{ type: "page", query: 1, offset: 0, limit: 200 }]);
  });

  it("keeps each page of a many-page answer, and asks for none of them again", async () => {
    const { model, sent, answer } = fake({ total: 10_000 });
    const el = document.createElement("div");
    widget.render({ model, el });
    answer(1, 0, 200);
    const row = el.querySelector(".ll-row[data-index='0']") as HTMLElement;
    expect(row.dataset.path).toBe("alice/p/r0");
    expect(row.textContent).toContain("run r0");
    // Scroll into the second page: it is here; only the one after it is asked for.
    const viewport = el.querySelector(".ll-viewport") as HTMLElement;
    viewport.scrollTop = 150 * 26;
    viewport.dispatchEvent(new Event("scroll"));
    await frame();
    expect(sent.slice(1)).toEqual([{ type: "page", query: 1, offset: 200, limit: 100 }]);
    expect((el.querySelector(".ll-row[data-index='150']") as HTMLElement).dataset.path)
      .toBe("alice/p/r150");
  });

  it("asks for the pages of a far jump in one message", async () => {
    const { model, sent } = fake({ total: 10_000 });
    const el = document.createElement("div");
    widget.render({ model, el });
    const viewport = el.querySelector(".ll-viewport") as HTMLElement;
    viewport.scrollTop = 5000 * 26;
    viewport.dispatchEvent(new Event("scroll"));
    await frame();
    // Rows 4998..5015 are in sight (pages 49 and 50), and page 51 is prefetched.
    expect(sent.slice(1)).toEqual([{ type: "page", query: 1, offset: 4900, limit: 300 }]);
  });

  it("waits for the pages pushed with a new query, and drops answers to the old one", () => {
    const { model, state, sent, answer } = fake({ total: 10_000 });
    const el = document.createElement("div");
    widget.render({ model, el });
    model.set("order", "-summary_metrics.loss");
    state.total = 3;
    model.set("_query", 2);
    expect(sent).toHaveLength(1); // only the first render's request
    answer(1, 0, 200); // late: the old query's rows
    expect(el.querySelector(".ll-row[data-path]")).toBeNull();
    answer(2, 0, 3);
    const paths = Array.from(el.querySelectorAll<HTMLElement>(".ll-row[data-path]"))
      .map((r) => r.dataset.path);
    expect(paths).toEqual(["alice/p/r0", "alice/p/r1", "alice/p/r2"]);
  });
});

describe("RunTable view, wired to its model", () => {
  it("offers the run fields of `_fields.run` in the column picker and the filter builder", () => {
    const { model } = fake({ total: 0 });
    const el = document.createElement("div");
    widget.render({ model, el });
    const picked = () =>
      Array.from(el.querySelectorAll<HTMLInputElement>(".ll-picker input"), (b) => b.dataset.column);
    const offered = () => {
      (el.querySelector(".ll-add-cond") as HTMLElement).click();
      const fields = el.querySelectorAll<HTMLSelectElement>(".ll-field");
      return Array.from(fields[fields.length - 1].options, (o) => o.value);
    };
    // An older server sends no `run`: the three fields every server has.
    expect(picked()).toEqual(["state", "name", "created_at"]);
    expect(offered()).toEqual(["state", "name", "created_at"]);
    model.set("_fields", { run: RUN, config: { lr: "number" }, summary: { loss: "number" } });
    expect(picked()).toEqual([...Object.keys(RUN), "config.lr", "summary.loss"]);
    expect(offered()).toEqual([...Object.keys(RUN), "config.lr", "summary.loss"]);
  });

  it("sets columns, order and selected on the model from the picker, header and rows", () => {
    const { model, state, answer } = fake({ total: 3, _fields: { run: RUN } });
    const el = document.createElement("div");
    widget.render({ model, el });
    const box = el.querySelector(".ll-picker input[data-column='state']") as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    expect(state.columns).toEqual(["state", "name"]);
    (el.querySelector(".ll-h[data-column='name']") as HTMLElement).click();
    expect(state.order).toBe("-name");
    expect(el.querySelector(".ll-h[data-column='name']")?.textContent).toBe("name ▼");
    answer(1, 0, 3);
    (el.querySelector(".ll-row[data-index='0']") as HTMLElement).click();
    const last = el.querySelector(".ll-row[data-index='2']") as HTMLElement;
    last.dispatchEvent(new MouseEvent("click", { shiftKey: true }));
    expect(state.selected).toEqual(["alice/p/r0", "alice/p/r1", "alice/p/r2"]);
    expect(el.querySelector(".ll-selcount")?.textContent).toBe("3 selected");
    expect(el.querySelectorAll(".ll-row.ll-selected").length).toBe(3);
  });
});
