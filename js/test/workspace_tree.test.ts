import { describe, expect, it } from "vitest";
import widget, { type Model, type TreeNode } from "../src/workspace_tree";
import { fakeModel } from "./fake_model";

const fake = (nodes: TreeNode[]) =>
  fakeModel<Model>({ selected: "", code: "", error: "", _nodes: nodes });

const node = (el: HTMLElement, path: string) =>
  el.querySelector(`.ll-node[data-path='${path}']`) as HTMLElement | null;

describe("WorkspaceTree view", () => {
  it("shows open what Python has read, and closes and reopens it without asking again", () => {
    const { model, sent } = fake([
      { path: "alice", label: "alice", kind: "workspace",
        children: [{ path: "alice/mnist", label: "mnist", kind: "project", meta: "3 runs" }] },
      { path: "team", label: "team", kind: "workspace" },
    ]);
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(node(el, "alice/mnist")?.textContent).toContain("3 runs");
    expect(node(el, "alice")?.querySelector(".ll-twisty")?.textContent).toBe("▾");
    expect(node(el, "team")?.querySelector(".ll-twisty")?.textContent).toBe("▸");
    node(el, "alice")?.click(); // close
    expect(node(el, "alice/mnist")).toBeNull();
    node(el, "alice")?.click(); // open again: the children are here already
    expect(node(el, "alice/mnist")).not.toBeNull();
    expect(sent).toEqual([]);
    node(el, "team")?.click(); // never read: Python is asked
    expect(sent).toEqual([{ type: "expand", path: "team" }]);
  });

  it("says how to start when there is nothing to browse, and shows a node loading", () => {
    const { model } = fake([]);
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(el.querySelector(".ll-hint")?.textContent).toBe(
      "No projects yet — log a run with lablens.init(...)",
    );
    model.set("_nodes", [{ path: "alice", label: "alice", kind: "workspace", children: [] }]);
    expect(el.querySelector(".ll-hint")).not.toBeNull();
    model.set("_nodes", [{ path: "alice", label: "alice", kind: "workspace",
      children: [{ path: "alice/mnist", label: "mnist", kind: "project", meta: "1 run" }] }]);
    expect(el.querySelector(".ll-hint")).toBeNull();
    node(el, "alice/mnist")?.click(); // asked of Python: "loading…" until it answers
    expect(el.querySelector(".ll-tree-loading")?.textContent).toBe("loading…");
  });
});

