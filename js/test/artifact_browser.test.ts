import { describe, expect, it } from "vitest";
import widget, { type Model } from "../src/artifact_browser";
import { fakeModel } from "./fake_model";

/** The browser's model, with these traits set. */
const fake = (init: Partial<Model>) =>
  fakeModel<Model>({
    path: "alice/p", selected: "", selected_run: "", code: "", error: "",
    _nodes: [], _detail: {}, _preview: {}, ...init,
  });

const RUN = { path: "alice/p/r1", name: "trainer", state: "FINISHED" };

describe("ArtifactBrowser view", () => {
  it("asks Python for children when a node opens, and selects it", () => {
    const { model, state, sent } = fake({
      _nodes: [{ path: "alice/p/model", label: "model", kind: "type" }],
    });
    const el = document.createElement("div");
    widget.render({ model, el });
    (el.querySelector(".ll-node[data-path='alice/p/model']") as HTMLElement).click();
    expect(sent).toEqual([{ type: "expand", path: "alice/p/model" }]);
    expect(state.selected).toBe("alice/p/model");
  });

  it("shows a version's lineage; clicking a run sets selected_run", () => {
    const { model, state } = fake({
      selected: "alice/p/mlp:v0",
      _detail: { path: "alice/p/mlp:v0", version: "v0", type: "model", aliases: ["latest"],
        tags: [], metadata: { acc: 0.9123456789 }, logged_by: RUN, used_by: [] },
    });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(el.querySelector(".ll-version-box")?.textContent).toBe("v0");
    expect(el.textContent).toContain("0.912346");
    (el.querySelector(".ll-logged-by .ll-run-link") as HTMLElement).click();
    expect(state.selected_run).toBe("alice/p/r1");
  });

  it("previews text as text, never as HTML", () => {
    const { model } = fake({
      selected: "alice/p/mlp:v0/a.txt",
      _preview: { path: "alice/p/mlp:v0/a.txt", kind: "text", text: "<b>x</b>" },
    });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(el.querySelector(".ll-preview-text pre")?.textContent).toBe("<b>x</b>");
    expect(el.querySelector(".ll-preview b")).toBeNull();
  });
});
