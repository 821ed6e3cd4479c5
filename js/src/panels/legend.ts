// The compact legend above the panels: one line of names, each with its colour (runs, or
// groups when grouping). Hidden when empty.

import { h } from "../common";

/** Show `items` (`[name, colour]`) in `el`; none hides it. */
export function fillLegend(el: HTMLElement, items: [string, string][]): void {
  el.style.display = items.length ? "" : "none";
  el.replaceChildren(
    ...items.map(([name, color]) => {
      const item = h("span", "ll-legend-item");
      const sw = h("span", "ll-swatch");
      sw.style.background = color;
      item.title = name;
      item.append(sw, name);
      return item;
    }),
  );
}
