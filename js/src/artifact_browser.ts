// ArtifactBrowser: a project's artifact types -> collections -> versions -> files, children
// asked of Python when a node opens. Beside the tree: the selected version (aliases, tags,
// metadata, size, lineage: producing run -> version -> consuming runs) or the file's preview.

import { h, STYLE, formatCell, treeNode, type WidgetModel } from "./common";

/** One node as Python describes it; `children` is absent until the node was opened. */
export interface TreeNode {
  path: string;
  label: string;
  kind: "type" | "collection" | "version" | "file" | "more";
  meta?: string;
  leaf?: boolean;
  children?: TreeNode[];
}

export interface RunRef {
  path: string;
  name: string;
  state: string;
}

export interface Detail {
  path?: string;
  version?: string;
  type?: string;
  description?: string;
  aliases?: string[];
  tags?: string[];
  metadata?: Record<string, unknown>;
  size_text?: string;
  file_count?: number;
  created_at?: string;
  logged_by?: RunRef | null;
  used_by?: RunRef[];
}

export interface Preview {
  path?: string;
  kind?: "text" | "image" | "table" | "other";
  size?: string;
  text?: string;
  url?: string;
  html?: string; // a small table rendered (and escaped) by pandas
  rows?: number;
  note?: string;
}

/** The synced traits; names match widgets/artifact_browser.py. */
export interface Model {
  path: string;
  selected: string;
  selected_run: string;
  code: string;
  error: string;
  _nodes: TreeNode[];
  _detail: Detail;
  _preview: Preview;
}

const LOCAL_STYLE = `
.ll-ab { display: flex; gap: 10px; align-items: flex-start; }
.ll-ab-tree { flex: 0 0 38%; max-height: 420px; overflow: auto; }
.ll-ab-side { flex: 1; min-width: 0; max-height: 420px; overflow: auto; }
.ll-ab-side h4 { margin: 2px 0 6px; font-size: 13px; }
.ll-ab-kv { border-collapse: collapse; margin-bottom: 6px; }
.ll-ab-kv th { color: #666; font-weight: normal; text-align: left; padding: 1px 12px 1px 0;
  vertical-align: top; white-space: nowrap; }
.ll-ab-kv td { padding: 1px 0; word-break: break-all; }
.ll-lineage { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin: 6px 0; }
.ll-lineage-col { display: flex; flex-direction: column; gap: 3px; }
.ll-run-link { color: #1a73e8; cursor: pointer; border: 1px solid #c7d7f5; border-radius: 4px;
  padding: 2px 6px; background: #f5f8fe; }
.ll-run-link:hover { background: #dce7fb; }
.ll-version-box { border: 2px solid #1a73e8; border-radius: 4px; padding: 2px 8px; font-weight: 600; }
.ll-arrow { color: #888; }
.ll-preview pre { background: #f7f7f7; padding: 6px; max-height: 300px; overflow: auto; margin: 0; }
.ll-preview img { max-width: 100%; max-height: 300px; }
.ll-preview table { border-collapse: collapse; font-size: 11px; }
.ll-preview th, .ll-preview td { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: right;
  white-space: nowrap; }
.ll-preview th { background: #f6f6f6; }
.ll-tag { background: #eee; border-radius: 8px; padding: 0 6px; margin-right: 3px; font-size: 11px; }
.ll-alias { background: #dbe8fd; color: #1a4fa0; }
`;

function render({ model, el }: { model: WidgetModel<Model>; el: HTMLElement }): void {
  el.classList.add("lablens-widget", "ll-tree", "ll-artifacts");
  const style = document.createElement("style");
  style.textContent = STYLE + LOCAL_STYLE;
  const err = h("div", "ll-error");
  const title = h("div", "ll-title ll-ab-title");
  const tree = h("div", "ll-ab-tree");
  const side = h("div", "ll-ab-side");
  const wrap = h("div", "ll-ab");
  wrap.append(tree, side);
  el.replaceChildren(style, title, err, wrap);
  const open = new Map<string, boolean>(); // what the user opened or closed

  const text = (tag: keyof HTMLElementTagNameMap, s: string, cls = ""): HTMLElement =>
    h(tag, cls, s);

  const nodeEl = (n: TreeNode): HTMLLIElement =>
    treeNode(n, { model, open, selectable: (m) => m.kind !== "more", redraw: drawTree });

  function runLink(r: RunRef): HTMLElement {
    const a = text("span", `${r.name || r.path.split("/").pop()} (${r.state.toLowerCase()})`,
      "ll-run-link");
    a.dataset.run = r.path;
    a.title = r.path;
    a.addEventListener("click", () => {
      model.set("selected_run", r.path);
      model.save_changes();
    });
    return a;
  }

  function drawDetail(d: Detail): HTMLElement {
    const box = h("div", "ll-detail");
    box.append(text("h4", `${d.path} (${d.type})`));
    const dl = h("table", "ll-ab-kv");
    const add = (k: string, v: Node | string): void => {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.append(v);
      tr.append(text("th", k), td);
      dl.append(tr);
    };
    const chips = (xs: string[] | undefined, cls: string): HTMLElement => {
      const s = document.createElement("span");
      for (const x of xs ?? []) s.append(text("span", x, `ll-tag ${cls}`));
      return s;
    };
    if (d.description) add("description", d.description);
    add("aliases", chips(d.aliases, "ll-alias"));
    add("tags", chips(d.tags, ""));
    const files = d.file_count ?? 0;
    add("size", `${d.size_text ?? ""} · ${files} file${files === 1 ? "" : "s"}`);
    add("created", (d.created_at ?? "").replace("T", " ").slice(0, 19));
    const meta = d.metadata ?? {};
    for (const k of Object.keys(meta)) {
      const v = meta[k];
      add(k, typeof v === "object" && v !== null ? JSON.stringify(v) : formatCell(v));
    }
    box.append(dl);
    // Lineage: producing run -> this version -> consuming runs.
    box.append(text("h4", "Lineage"));
    const line = h("div", "ll-lineage");
    const left = h("div", "ll-lineage-col ll-logged-by");
    left.append(d.logged_by ? runLink(d.logged_by) : text("span", "no run", "ll-meta"));
    const right = h("div", "ll-lineage-col ll-used-by");
    for (const r of d.used_by ?? []) right.append(runLink(r));
    if (!(d.used_by ?? []).length) right.append(text("span", "not used yet", "ll-meta"));
    line.append(left, text("span", "→", "ll-arrow"), text("span", d.version ?? "", "ll-version-box"),
      text("span", "→", "ll-arrow"), right);
    box.append(line);
    const dl2 = document.createElement("button");
    dl2.textContent = "Download";
    dl2.className = "ll-download";
    dl2.addEventListener("click", () => model.send({ type: "download", path: d.path }));
    box.append(dl2);
    return box;
  }

  function drawPreview(p: Preview): HTMLElement {
    const box = h("div", `ll-preview ll-preview-${p.kind}`);
    box.append(text("h4", `${(p.path ?? "").split("/").slice(3).join("/")} ${p.size ?? ""}`));
    if (p.kind === "text") box.append(text("pre", p.text ?? ""));
    else if (p.kind === "image") {
      const img = document.createElement("img");
      img.src = p.url ?? "";
      box.append(img);
    } else if (p.kind === "table") {
      const t = document.createElement("div");
      t.innerHTML = p.html ?? ""; // pandas escapes the cells
      box.append(t, text("div", `first ${p.rows} rows`, "ll-meta"));
    } else box.append(text("div", p.note ?? "", "ll-meta"));
    return box;
  }

  function drawTree(): void {
    const ul = document.createElement("ul");
    for (const n of model.get("_nodes")) ul.append(nodeEl(n));
    const project = model.get("path");
    title.textContent = project ? `Artifacts of ${project}` : "Artifacts";
    if (!model.get("_nodes").length) {
      ul.append(
        text(
          "li",
          project
            ? `No artifacts in ${project} yet — log one with run.log_artifact(...).`
            : "No project shown: pick one in the workspace tree.",
          "ll-hint",
        ),
      );
    }
    tree.replaceChildren(ul);
    err.textContent = model.get("error");
    err.style.display = model.get("error") ? "" : "none";
  }

  function drawSide(): void {
    const p = model.get("_preview");
    const d = model.get("_detail");
    const sel = model.get("selected");
    if (p && p.path && p.path === sel) side.replaceChildren(drawPreview(p));
    else if (d && d.path && d.path === sel) side.replaceChildren(drawDetail(d));
    else if (p && p.path && p.kind === "other") side.replaceChildren(drawPreview(p));
    else side.replaceChildren(text("div", "select a version or a file", "ll-meta"));
  }

  function draw(): void {
    drawTree();
    drawSide();
  }

  model.on("change:_nodes", drawTree);
  model.on("change:path", drawTree);
  model.on("change:selected", draw);
  model.on("change:error", drawTree);
  model.on("change:_detail", drawSide);
  model.on("change:_preview", drawSide);
  draw();
}

export default { render };
