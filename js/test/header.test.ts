import { describe, expect, it } from "vitest";
import { Header, moveColumn, nextOrder, orderField, orderOf } from "../src/run_table/header";
import { Widths } from "../src/run_table/widths";
import { nextOrder as fromEntry, orderField as fieldFromEntry } from "../src/run_table";

describe("the run table's header", () => {
  it("orders every column by its own name, summary.* too (one name per field)", () => {
    expect(orderField("summary.val/acc")).toBe("summary.val/acc");
    expect(orderField("config.lr")).toBe("config.lr");
    expect(orderField("created_at")).toBe("created_at");
    expect(fieldFromEntry).toBe(orderField); // still importable from the widget's module
  });

  it("cycles a column's order: descending first, then ascending, then descending again", () => {
    const seen: string[] = [];
    let order = "+created_at";
    for (let k = 0; k < 3; k++) seen.push((order = nextOrder(order, "summary.loss")));
    expect(seen).toEqual(["-summary.loss", "+summary.loss", "-summary.loss"]);
    // An order Python set in W&B's spelling is the same column's.
    expect(nextOrder("-summary_metrics.loss", "summary.loss")).toBe("+summary.loss");
    expect(orderOf("summary_metrics.loss", "summary.loss")).toBe("asc");
    expect(orderOf("-summary_metrics.loss", "summary.loss")).toBe("desc");
    expect(orderOf("-summary.lossy", "summary.loss")).toBeNull();
    expect(fromEntry).toBe(nextOrder);
  });

  it("marks the ordered column and asks for the next order on a click", () => {
    let order = "-config.lr";
    const header = new Header(
      () => order,
      (o) => {
        order = o;
        header.draw(["name", "tags", "config.lr"]);
      },
    );
    header.draw(["name", "tags", "config.lr"]);
    const texts = () => Array.from(header.element.querySelectorAll(".ll-h"), (e) => e.textContent);
    const col = (c: string) => header.element.querySelector(`[data-column='${c}']`) as HTMLElement;
    expect(texts()).toEqual(["", "name", "tags", "config.lr ▼"]);
    col("config.lr").click();
    expect(order).toBe("+config.lr");
    expect(texts()).toEqual(["", "name", "tags", "config.lr ▲"]);
    col("name").click();
    expect(order).toBe("-name");
    expect(texts()).toEqual(["", "name ▼", "tags", "config.lr"]);
    col("tags").click(); // a list of tags has no order
    expect(order).toBe("-name");
    expect(col("tags").classList.contains("ll-sortable")).toBe(false);
  });

  it("shows summary and config keys under their prefix, and the old spelling's order", () => {
    const header = new Header(() => "-summary_metrics.val/acc", () => undefined);
    header.draw(["name", "summary.val/acc", "config.lr"]);
    const col = (c: string) => header.element.querySelector(`[data-column='${c}']`) as HTMLElement;
    expect(col("summary.val/acc").querySelector(".ll-h-prefix")?.textContent).toBe("summary.");
    expect(col("summary.val/acc").textContent).toBe("summary.val/acc ▼");
    expect(col("config.lr").querySelector(".ll-h-key")?.textContent).toBe("lr");
  });

  it("moves a dragged column before or after the one it is dropped on", () => {
    const cols = ["name", "state", "summary.loss", "config.lr"];
    expect(moveColumn(cols, "config.lr", "state", false)).toEqual(["name", "config.lr", "state", "summary.loss"]);
    expect(moveColumn(cols, "name", "summary.loss", true)).toEqual(["state", "summary.loss", "name", "config.lr"]);
    expect(moveColumn(cols, "name", "name", true)).toBe(cols);
  });

  it("resizes a column by dragging its header's edge, and the click that ends it does not sort", async () => {
    let widths: Record<string, number> = {};
    const sorted: string[] = [];
    const w = new Widths(() => widths);
    const header = new Header(() => "", {
      sort: (o) => sorted.push(o),
      resize: (c, px) => (widths = { ...widths, [c]: px }),
      reorder: () => undefined,
    }, w);
    header.draw(["name", "summary.loss"]);
    const hc = header.element.querySelector("[data-column='summary.loss']") as HTMLElement;
    expect(hc.style.flex).toBe("0 0 88px");
    const grip = hc.querySelector(".ll-resize") as HTMLElement;
    grip.dispatchEvent(new MouseEvent("mousedown", { clientX: 100, bubbles: true }));
    window.dispatchEvent(new MouseEvent("mousemove", { clientX: 160 }));
    window.dispatchEvent(new MouseEvent("mouseup", { clientX: 160 }));
    hc.click();
    // jsdom lays nothing out: the drag starts from the column's width, 88px.
    expect(widths).toEqual({ "summary.loss": 148 });
    expect(sorted).toEqual([]);
    await new Promise((r) => setTimeout(r, 0));
    hc.click();
    expect(sorted).toEqual(["-summary.loss"]);
  });

  it("fits the name column to the longest name read, within bounds", () => {
    const w = new Widths(() => ({}));
    expect(w.of("name")).toBe(120);
    expect(w.fit(["a", "mlp-128-adam-lr0.003-a0.0001"])).toBe(true);
    expect(w.of("name")).toBeGreaterThan(180);
    expect(w.fit(["short"])).toBe(false);
    w.fit(["x".repeat(500)]);
    expect(w.of("name")).toBe(360);
  });
});
