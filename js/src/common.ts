// What every lablens widget view shares: its CSS and how a cell value reads.
import type { AnyModel } from "@anywidget/types";

/** What a lablens view uses of anywidget's model, typed by the widget's synced traits. */
// `any`, as anywidget's own AnyModel constraint has it.
export type WidgetModel<M extends Record<string, any>> = Pick<
  AnyModel<M>,
  "get" | "set" | "save_changes" | "on" | "off" | "send"
>;

/** A new element with a class (and text). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export const STYLE = `
.lablens-widget { font: 12px/1.4 var(--jp-ui-font-family, system-ui, sans-serif);
  color: var(--jp-ui-font-color1, #222); }
.lablens-widget button { font: inherit; padding: 1px 8px; margin-right: 4px; cursor: pointer; }
.ll-bar { display: flex; align-items: center; gap: 6px; margin-bottom: 4px; }
.ll-total { font-weight: 600; }
.ll-selcount { color: #1a73e8; }
.ll-error { color: #b00020; white-space: pre-wrap; margin: 4px 0; }
.ll-filter, .ll-picker { border: 1px solid #ddd; padding: 6px; margin-bottom: 4px; }
.ll-picker { max-height: 160px; overflow: auto; columns: 3; }
.ll-picker label { display: block; white-space: nowrap; }
.ll-group { border-left: 3px solid #c7d7f5; padding-left: 6px; margin: 3px 0; }
.ll-group-head { margin-bottom: 3px; display: flex; gap: 4px; align-items: center; }
.ll-cond, .ll-raw { display: flex; gap: 4px; margin: 2px 0; align-items: center; }
.ll-raw-json { font-family: monospace; flex: 1; min-width: 200px; }
.ll-invalid { outline: 2px solid #b00020; }
.ll-pending .ll-value { outline: 1px dashed #999; }
.ll-head, .ll-row { display: flex; }
.ll-head { font-weight: 600; border-bottom: 1px solid #bbb; background: #f6f6f6;
  overflow: hidden; }
.ll-cell { flex: 0 0 120px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  padding: 4px 6px; box-sizing: border-box; }
.ll-check { flex: 0 0 36px; }
.ll-h { position: relative; align-self: flex-end; }
.ll-h-prefix { display: block; font-weight: 400; font-size: 10px; color: #888; line-height: 1.1; }
.ll-h-key { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
  overflow: hidden; white-space: normal; overflow-wrap: break-word; }
.ll-resize { position: absolute; top: 0; right: 0; width: 6px; height: 100%; cursor: col-resize;
  border-right: 1px solid #ddd; }
.ll-resize:hover { border-right: 3px solid #1a73e8; }
.ll-drop { background: #dce7fb; }
.ll-num { text-align: right; font-variant-numeric: tabular-nums; }
.ll-check { display: flex; align-items: center; gap: 2px; }
.ll-check input { margin: 0; }
.ll-swatch { display: inline-block; width: 8px; height: 8px; border-radius: 2px; }
.ll-same-chip { border: 1px solid #c7d7f5; background: #f3f6fd; border-radius: 10px; }
.ll-same { border: 1px solid #ddd; padding: 4px 8px; margin-bottom: 4px; max-height: 160px;
  overflow: auto; }
.ll-same-list { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 0; }
.ll-same-list dt { color: #555; }
.ll-same-list dd { margin: 0; font-weight: 600; }
.ll-live { color: #1a4fa0; display: inline-flex; align-items: center; gap: 3px; }
.ll-live-dot { color: #d93025; animation: ll-blink 1.6s infinite; }
.ll-live.ll-paused .ll-live-dot { color: #999; animation: none; }
@keyframes ll-blink { 50% { opacity: 0.3; } }
.ll-busy { color: #777; font-style: italic; }
.ll-empty { color: #555; padding: 10px 6px; border-bottom: 1px solid #ddd; }
.ll-filter-error { border-left: 3px solid #b00020; padding-left: 6px; }
.ll-cond.ll-invalid { outline: none; background: #fdecee; }
.ll-section-title { font-weight: 600; font-size: 13px; margin: 10px 0 4px;
  color: var(--jp-ui-font-color1, #222); }
.ll-title { font-weight: 600; margin: 0 0 4px; }
.ll-hint { color: #666; padding: 6px 2px; }
.ll-sortable { cursor: pointer; }
.ll-sortable:hover { background: #e8eefc; }
.ll-viewport { overflow: auto; position: relative; border-bottom: 1px solid #ddd; }
.ll-spacer { position: relative; }
.ll-rows { position: absolute; top: 0; left: 0; right: 0; will-change: transform; }
.ll-row { border-bottom: 1px solid #eee; cursor: pointer; box-sizing: border-box; }
.ll-row:hover { background: #f3f6fd; }
.ll-row.ll-selected { background: #dce7fb; }
.ll-loading { color: #999; }
.ll-badge { border-radius: 8px; padding: 0 6px; font-size: 11px; }
.ll-state-finished { background: #d7f0dd; color: #17612b; }
.ll-state-running { background: #dbe8fd; color: #1a4fa0; }
.ll-state-crashed { background: #fbdada; color: #8c1d1d; }
.ll-state-aborted { background: #eee; color: #555; }
.ll-tree ul { list-style: none; padding-left: 14px; margin: 0; }
.ll-tree > ul { padding-left: 0; }
.ll-node { cursor: pointer; padding: 1px 4px; border-radius: 3px; white-space: nowrap; }
.ll-node:hover { background: #eef2fb; }
.ll-node.ll-selected { background: #dce7fb; }
.ll-twisty { display: inline-block; width: 12px; color: #666; }
.ll-meta { color: #777; margin-left: 6px; font-size: 11px; }
.ll-log { max-height: 220px; overflow: auto; }
.ll-log-entry { display: flex; gap: 6px; align-items: flex-start; border-bottom: 1px solid #eee;
  padding: 3px 0; }
.ll-log-entry pre { margin: 0; flex: 1; white-space: pre-wrap; font-size: 11px; }
`;

/** A cell's text: numbers to 6 significant digits, times as UTC, lists joined. */
export function formatCell(v: unknown, isTime = false): string {
  if (v === null || v === undefined) return "";
  if (isTime && (typeof v === "number" || typeof v === "bigint")) {
    return new Date(Number(v)).toISOString().replace("T", " ").slice(0, 19); // Arrow gives ms
  }
  if (typeof v === "number") {
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString().replace("T", " ").slice(0, 19);
  if (typeof v === "object" && v !== null && Symbol.iterator in v && typeof v !== "string") {
    return Array.from(v as Iterable<unknown>, (x) => formatCell(x)).join(", ");
  }
  return String(v);
}

/** What a tree node needs from Python's description of it (workspace tree, artifact browser). */
export interface TreeNodeBase {
  path: string;
  label: string;
  kind: string;
  meta?: string;
  leaf?: boolean;
  children?: TreeNodeBase[];
}

/** The model calls a tree node makes: read and set `selected`, ask Python to expand a node. */
export interface TreeModel {
  get(key: "selected"): string;
  set(key: "selected", value: string): void;
  save_changes(): void;
  send(content: unknown): void;
}

/**
 * One node of a lazily read tree, with its open children. Clicking a closed node asks Python
 * for its children (`{type: "expand", path}`); clicking a `selectable` node sets `selected`.
 * A node Python has read the children of shows open (the explorer opens the path it selects)
 * until the user closes it; `open` keeps what the user chose.
 */
export function treeNode<N extends TreeNodeBase>(
  n: N,
  ctx: {
    model: TreeModel;
    open: Map<string, boolean>;
    selectable: (n: N) => boolean;
    redraw: () => void;
  },
): HTMLLIElement {
  const isOpen = ctx.open.get(n.path) ?? n.children !== undefined;
  const li = document.createElement("li");
  const row = h("div", `ll-node ll-kind-${n.kind}`);
  row.dataset.path = n.path;
  row.title = n.meta ? `${n.label} · ${n.meta}` : n.label;
  if (n.path === ctx.model.get("selected")) row.classList.add("ll-selected");
  const twisty = h("span", "ll-twisty", n.leaf ? "" : isOpen ? "▾" : "▸");
  const label = document.createElement("span");
  label.textContent = n.label;
  row.append(twisty, label);
  if (n.meta) {
    const meta = h("span", "ll-meta", n.meta);
    row.append(meta);
  }
  row.addEventListener("click", () => {
    if (!n.leaf) {
      ctx.open.set(n.path, !isOpen);
      if (!isOpen && !n.children) ctx.model.send({ type: "expand", path: n.path });
    }
    if (ctx.selectable(n)) {
      ctx.model.set("selected", n.path);
      ctx.model.save_changes();
    }
    ctx.redraw();
  });
  li.append(row);
  if (isOpen && !n.leaf && !n.children) {
    // Asked of Python, not answered yet.
    const wait = document.createElement("ul");
    wait.append(h("li", "ll-meta ll-tree-loading", "loading…"));
    li.append(wait);
  }
  if (isOpen && n.children) {
    const ul = document.createElement("ul");
    for (const c of n.children) ul.append(treeNode(c as N, ctx));
    li.append(ul);
  }
  return li;
}
