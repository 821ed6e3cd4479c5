// ActionLog: the Python source of every Api call the explorer's widgets made, each copyable.

import { h, STYLE, type WidgetModel } from "./common";

/** The synced traits; names match widgets/explorer.py's ActionLog. */
export interface Model {
  entries: string[];
  code: string;
  error: string;
}

function render({ model, el }: { model: WidgetModel<Model>; el: HTMLElement }): void {
  el.classList.add("lablens-widget", "ll-action-log");
  const style = document.createElement("style");
  style.textContent = STYLE;
  const title = h("div", "ll-bar");
  const list = h("div", "ll-log");
  el.replaceChildren(style, title, list);

  function draw(): void {
    const entries = model.get("entries");
    title.textContent = `Api calls (${entries.length})`;
    list.replaceChildren();
    for (const code of entries) {
      const row = h("div", "ll-log-entry");
      const pre = document.createElement("pre");
      pre.textContent = code;
      const copy = document.createElement("button");
      copy.textContent = "copy";
      copy.addEventListener("click", () => {
        void navigator.clipboard?.writeText(code).then(() => {
          copy.textContent = "copied";
          setTimeout(() => (copy.textContent = "copy"), 1200);
        });
      });
      row.append(copy, pre);
      list.append(row);
    }
    list.scrollTop = list.scrollHeight;
  }
  model.on("change:entries", draw);
  draw();
}

export default { render };
