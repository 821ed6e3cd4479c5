import { describe, expect, it } from "vitest";
import { Header, nextOrder, orderField } from "../src/run_table/header";
import { nextOrder as fromEntry, orderField as fieldFromEntry } from "../src/run_table";

describe("the run table's header", () => {
  it("orders summary columns by W&B's summary_metrics field, others by their own name", () => {
    expect(orderField("summary.val/acc")).toBe("summary_metrics.val/acc");
    expect(orderField("config.lr")).toBe("config.lr");
    expect(orderField("created_at")).toBe("created_at");
    expect(fieldFromEntry).toBe(orderField); // still importable from the widget's module
  });

  it("cycles a column's order: descending first, then ascending, then descending again", () => {
    const seen: string[] = [];
    let order = "+created_at";
    for (let k = 0; k < 3; k++) seen.push((order = nextOrder(order, "summary.loss")));
    expect(seen).toEqual(["-summary_metrics.loss", "+summary_metrics.loss", "-summary_metrics.loss"]);
    expect(nextOrder("summary_metrics.loss", "summary.loss")).toBe("-summary_metrics.loss");
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
});
