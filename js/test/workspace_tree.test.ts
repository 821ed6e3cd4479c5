import { describe, expect, it } from "vitest";
import widget, { type Model, type TreeNode } from "../src/workspace_tree";

function fakeModel(nodes: TreeNode[]) {
  const state: Model = { selected: "", code: "", error: "", _nodes: nodes };
  const handlers: Record<string, Array<() => void>> = {};
  const sent: unknown[] = [];
  const model = {
    get: <K extends keyof Model>(k: K) => state[k],
    set: <K extends keyof Model>(k: K, v: Model[K]) => {
      state[k] = v;
      for (const h of handlers[`change:${k}`] ?? []) h();
    },
    save_changes: () => undefined,
    on: (e: string, cb: () => void) => { (handlers[e] ??= []).push(cb); },
    send: (c: unknown) => { sent.push(c); },
  };
  return { model, state, sent };
}

const node = (el: HTMLElement, path: string) =>
  el.querySelector(`.ll-node[data-path='${path}']`) as HTMLElement | null;

describe("WorkspaceTree view", () => {
  it("shows open what Python has read, and closes and reopens it without asking again", () => {
    const { model, sent } = fakeModel([
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
});
