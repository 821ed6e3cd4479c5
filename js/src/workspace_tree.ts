// WorkspaceTree: workspaces -> projects -> runs / sweeps / artifacts / reports. Children are
// asked of Python when a node opens (Python answers with the Api), never all up front.

import { h, STYLE, treeNode, type WidgetModel } from "./common";

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

function render({ model, el }: { model: WidgetModel<Model>; el: HTMLElement }): void {
  el.classList.add("lablens-widget", "ll-tree");
  const style = document.createElement("style");
  style.textContent = STYLE;
  const err = h("div", "ll-error");
  const body = document.createElement("div");
  el.replaceChildren(style, err, body);
  const open = new Map<string, boolean>(); // what the user opened or closed

  const nodeEl = (n: TreeNode): HTMLLIElement =>
    treeNode(n, {
      model,
      open,
      selectable: (m) => m.kind !== "empty" && m.kind !== "folder",
      redraw: draw,
    });

  function draw(): void {
    const ul = document.createElement("ul");
    const nodes = model.get("_nodes");
    for (const n of nodes) ul.append(nodeEl(n));
    // Nothing to browse yet: say how to get something, not an empty box.
    const projects = nodes.reduce((k, n) => k + (n.children?.length ?? 0), 0);
    const opened = nodes.some((n) => n.children !== undefined);
    if (!nodes.length || (opened && !projects && nodes.every((n) => n.children !== undefined))) {
      ul.append(h("li", "ll-hint", "No projects yet — log a run with lablens.init(...)"));
    }
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
