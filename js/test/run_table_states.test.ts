import { afterEach, describe, expect, it } from "vitest";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import widget, { type Model } from "../src/run_table";
import { emptyText } from "../src/run_table/empty";
import { Live } from "../src/run_table/live";
import { errorText, plural } from "../src/run_table/toolbar";
import { offeredOps } from "../src/filter_builder/condition";
import { fakeModel } from "./fake_model";

function fake(init: Partial<Model>) {
  const f = fakeModel<Model>({
    path: "alice/p", filters: {}, order: "+created_at", columns: ["name", "state"], selected: [],
    total: 0, code: "", error: "", _fields: {}, _project: "alice/p", _query: 1, _page_size: 100,
    column_widths: {}, run_colors: {}, live: true, _same: {}, _loading: false,
    ...init,
  });
  /** The kernel's reply: rows `from`.. with these states, as a `kind` message. */
  const answer = (query: number, from: number, states: string[], kind = "page") => {
    const ids = states.map((_, i) => `r${from + i}`);
    const ipc = tableToIPC(tableFromArrays({ id: ids, name: ids.map((id) => `run ${id}`), state: states }));
    f.emit("msg:custom", { type: kind, query, offset: from, total: f.state.total }, [new DataView(ipc.buffer)]);
  };
  return { ...f, answer };
}

const text = (el: HTMLElement, sel: string) => (el.querySelector(sel) as HTMLElement | null)?.textContent ?? null;
const shown = (el: HTMLElement, sel: string) => (el.querySelector(sel) as HTMLElement).style.display !== "none";

afterEach(() => document.body.replaceChildren());

describe("what the run table says", () => {
  it("counts runs in the singular and the plural", () => {
    expect(plural(1, "run")).toBe("1 run");
    expect(plural(0, "run")).toBe("0 runs");
    expect(plural(12_000, "run")).toBe("12,000 runs");
    const { model } = fake({ total: 1 });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(text(el, ".ll-total")).toBe("1 run");
  });

  it("names the filter that matches nothing, with a way to clear it", () => {
    const { model, state } = fake({ total: 0, filters: { "config.lr": { $gt: 5 } } });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(text(el, ".ll-empty span")).toBe('No run matches the filter {"config.lr":{"$gt":5}}.');
    expect(shown(el, ".ll-viewport")).toBe(false);
    (el.querySelector(".ll-clear-filter") as HTMLElement).click();
    expect(state.filters).toEqual({});
    expect(shown(el, ".ll-busy")).toBe(true); // asked: loading until the query is back
    model.set("_query", 2);
    expect(shown(el, ".ll-busy")).toBe(false);
  });

  it("says how to get runs into an empty project, and what to do with no project", () => {
    expect(emptyText({ project: "alice/mnist", total: 0, filters: {}, error: "", loading: false }))
      .toBe('No runs in alice/mnist yet — log one with lablens.init(project="mnist").');
    expect(emptyText({ project: "", total: 0, filters: {}, error: "", loading: false }))
      .toBe("No project shown: pick one in the workspace tree.");
    expect(emptyText({ project: "a/b", total: 0, filters: {}, error: "", loading: true })).toBe("Loading runs…");
    expect(emptyText({ project: "a/b", total: 3, filters: {}, error: "", loading: false })).toBe("");
  });

  it("shows a bad filter's problem under the builder, marks its row, and no run count", () => {
    const filters = { created_at: { $gt: "yesterday" } };
    const { model } = fake({ total: 5, filters });
    const el = document.createElement("div");
    widget.render({ model, el });
    const error = "BadRequest: expected an ISO 8601 time like '2025-12-09T17:57:38Z', got " +
      "'yesterday' (field: filters.created_at.$gt)";
    model.set("total", 0);
    model.set("error", error);
    expect(text(el, ".ll-filter-error")).toBe(
      "The filter was not applied: expected an ISO 8601 time like '2025-12-09T17:57:38Z', got " +
      "'yesterday' (field: filters.created_at.$gt)",
    );
    // The message sits right under the (now open) filter builder, not "0 runs".
    const builder = el.querySelector(".ll-filter") as HTMLElement;
    expect(builder.style.display).toBe("");
    expect(builder.nextElementSibling?.classList.contains("ll-filter-error")).toBe(true);
    expect(el.querySelector(".ll-cond")?.classList.contains("ll-invalid")).toBe(true);
    expect(text(el, ".ll-total")).toBe("");
    expect(shown(el, ".ll-empty")).toBe(false);
    expect(errorText("KeyError: x")).toBe("KeyError: x");
  });

  it("folds the config values all runs share into one chip that lists them", () => {
    const { model } = fake({
      total: 2,
      _same: { values: { "config.batch_size": "64", "config.data.name": "digits" }, runs: 2 },
    });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(text(el, ".ll-same-chip")).toBe("2 keys same for all");
    expect(shown(el, ".ll-same")).toBe(false);
    (el.querySelector(".ll-same-chip") as HTMLElement).click();
    expect(shown(el, ".ll-same")).toBe(true);
    const items = Array.from(el.querySelectorAll(".ll-same dt, .ll-same dd"), (e) => e.textContent);
    expect(items).toEqual(["config.batch_size", "64", "config.data.name", "digits"]);
    // A key the user shows as a column leaves the chip.
    model.set("columns", ["name", "config.batch_size"]);
    expect(text(el, ".ll-same-chip")).toBe("1 key same for all");
  });

  it("draws each run's colour as a swatch, and widths as the model holds them", () => {
    const { model, answer } = fake({ total: 2, run_colors: { r0: "rgb(31, 119, 180)" },
      column_widths: { state: 140 } });
    const el = document.createElement("div");
    widget.render({ model, el });
    answer(1, 0, ["finished", "finished"]);
    const sw = el.querySelector(".ll-row[data-index='0'] .ll-swatch") as HTMLElement;
    expect(sw.style.background).toBe("rgb(31, 119, 180)");
    expect(el.querySelector(".ll-row[data-index='1'] .ll-swatch")).toBeNull();
    const state = el.querySelector(".ll-row[data-index='0'] .ll-cell[data-column='state']") as HTMLElement;
    expect(state.style.flex).toBe("0 0 140px");
    expect((el.querySelector(".ll-h[data-column='state']") as HTMLElement).style.flex).toBe("0 0 140px");
  });

  it("offers each filter operator once", () => {
    expect(offeredOps("=")).not.toContain("$eq");
    expect(offeredOps("=").filter((o) => o === "=")).toHaveLength(1);
    expect(offeredOps("$eq")).toContain("$eq"); // a filter Python set with it reads back as set
  });
});

describe("live rows", () => {
  it("asks for the running rows again only when shown, on, and nothing is out", () => {
    const { model, sent, answer, state } = fake({ total: 3 });
    const el = document.createElement("div");
    document.body.append(el);
    widget.render({ model, el });
    answer(1, 0, ["finished", "running", "finished"]);
    expect(shown(el, ".ll-live")).toBe(true);
    expect(text(el, ".ll-live-pause")).toBe("pause");
    const source = {
      on: () => state.live,
      running: () => ({ offset: 0, limit: 100, count: 1 }),
      query: () => 1,
      send: (m: unknown) => sent.push(m as Record<string, unknown>),
    };
    const live = new Live(el, source);
    const before = sent.length;
    expect(live.tick(1000)).toBe(true);
    expect(sent.slice(before)).toEqual([{ type: "refresh", query: 1, offset: 0, limit: 100 }]);
    expect(live.tick(4000)).toBe(false); // the first is still out
    live.answered();
    (el.querySelector(".ll-live-pause") as HTMLElement).click(); // pause
    expect(state.live).toBe(false);
    expect(text(el, ".ll-live-pause")).toBe("resume");
    expect(live.tick(7000)).toBe(false);
    live.stop();
  });

  it("stops once no run in sight is running", () => {
    const { model, answer } = fake({ total: 2 });
    const el = document.createElement("div");
    document.body.append(el);
    widget.render({ model, el });
    answer(1, 0, ["running", "running"]);
    expect(shown(el, ".ll-live")).toBe(true);
    expect(el.querySelector(".ll-live")?.getAttribute("title")).toContain("2 running runs");
    answer(1, 0, ["finished", "finished"], "refresh");
    expect(shown(el, ".ll-live")).toBe(false);
    expect(text(el, ".ll-row[data-index='0'] .ll-badge")).toBe("finished");
  });
});
