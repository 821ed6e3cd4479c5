// Bundles each widget module into one self-contained ES module in src/lablens/static/.
// No code splitting: anywidget loads a widget from a single file (`_esm`).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const widgets = [
  "run_table",
  "workspace_tree",
  "action_log",
  "artifact_browser",
  "media_panel",
  "panel_grid",
];

await build({
  entryPoints: widgets.map((w) => path.join(here, "src", `${w}.ts`)),
  outdir: path.join(here, "..", "src", "lablens", "static"),
  bundle: true,
  splitting: false,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  // uPlot's stylesheet goes into the bundle as text, put in a <style> by the view.
  loader: { ".css": "text" },
  logLevel: "warning",
});
