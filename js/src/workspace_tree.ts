// WorkspaceTree: workspaces -> projects -> runs / sweeps / artifacts / reports. Children are
// asked of Python when a node opens (Python answers with the Api), never all up front.

import { STYLE } from "./common";

/** One node as Python describes it; `children` is absent until the node was opened. */
export interface TreeNode {
  path: string;
  label: string;
  kind: "workspace" | "project" | "folder" | "run" | "sweep" | "report" | "empty";
  meta?: string;
  leaf?: boolean;
  children?: TreeNode[];
}

/** The synced traits; names match widgets/workspace_tree.py. */
export interface Model {
  selected: string;
  code: string;
  error: string;
  _nodes: TreeNode[];
}

interface AnyModel {
  get<K extends keyof Model>(key: K): Model[K];
  set<K extends keyof Model>(key: K, value: Model[K]): void;
  save_changes(): void;
  on(event: string, cb: (...args: unknown[]) => void): void;
  send(content: unknown): void;
}

function render({ model, el }: { model: AnyModel; el: HTMLElement }): void {
  el.classList.add("lablens-widget", "ll-tree");
  const style = document.createElement("style");
  style.textContent = STYLE;
  const err = document.createElement("div");
  err.className = "ll-error";
  const body = document.createElement("div");
  el.replaceChildren(style, err, body);
  const open = new Set<string>();

  function nodeEl(n: TreeNode): HTMLLIElement {
    const li = document.createElement("li");
    const row = document.createElement("div");
    row.className = `ll-node ll-kind-${n.kind}`;
    row.dataset.path = n.path;
    if (n.path === model.get("selected")) row.classList.add("ll-selected");
    const twisty = document.createElement("span");
    twisty.className = "ll-twisty";
    twisty.textContent = n.leaf ? "" : open.has(n.path) ? "▾" : "▸";
    const label = document.createElement("span");
    label.textContent = n.label;
    row.append(twisty, label);
    if (n.meta) {
      const meta = document.createElement("span");
      meta.className = "ll-meta";
      meta.textContent = n.meta;
      row.append(meta);
    }
    row.addEventListener("click", () => {
      if (!n.leaf) {
        if (open.has(n.path)) open.delete(n.path);
        else {
          open.add(n.path);
          if (!n.children) model.send({ type: "expand", path: n.path });
        }
      }
      if (n.kind !== "empty" && n.kind !== "folder") {
        model.set("selected", n.path);
        model.save_changes();
      }
      draw();
    });
    li.append(row);
    if (open.has(n.path) && n.children) {
      const ul = document.createElement("ul");
      for (const c of n.children) ul.append(nodeEl(c));
      li.append(ul);
    }
    return li;
  }

  function draw(): void {
    const ul = document.createElement("ul");
    for (const n of model.get("_nodes")) ul.append(nodeEl(n));
    body.replaceChildren(ul);
    err.textContent = model.get("error");
    err.style.display = model.get("error") ? "" : "none";
  }

  model.on("change:_nodes", draw);
  model.on("change:selected", draw);
  model.on("change:error", draw);
  draw();
}

export default { render };
