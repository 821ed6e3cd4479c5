// The panel grid's CSS, beside the shared STYLE of common.ts; uPlot's own stylesheet is
// bundled as text (build.mjs loads .css as text).

export const PANELS_STYLE = `
.ll-panel-grid { width: 100%; box-sizing: border-box; }
.ll-panels-bar { flex-wrap: wrap; gap: 10px; padding: 4px 0; border-bottom: 1px solid #eee; }
.ll-bar-item { display: inline-flex; align-items: center; gap: 4px; color: #555; }
.ll-bar-item select { max-width: 170px; }
.ll-picker-box { position: relative; }
.ll-picker-search { width: 220px; padding: 2px 6px; }
.ll-picker-list { position: absolute; z-index: 20; top: 100%; left: 0; width: 280px;
  max-height: 260px; overflow: auto; background: #fff; border: 1px solid #ccc;
  box-shadow: 0 2px 8px rgba(0,0,0,.15); }
.ll-picker-item { padding: 3px 8px; cursor: pointer; white-space: nowrap; }
.ll-picker-item:hover { background: #e8eefc; }
.ll-picker-item.ll-shown { color: #999; }
.ll-picker-empty { padding: 3px 8px; color: #999; }
.ll-live { color: #1e8e3e; font-weight: 600; }
.ll-live.ll-paused { color: #999; }
.ll-panels-status { color: #777; margin-left: auto; }
.ll-legend { display: flex; flex-wrap: wrap; gap: 4px 12px; padding: 4px 0; max-height: 48px;
  overflow: auto; }
.ll-legend-item { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap;
  max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
.ll-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  flex: 0 0 10px; }
.ll-section { margin: 6px 0; }
.ll-section-head { font-weight: 600; font-size: 13px; cursor: pointer; padding: 4px 0;
  user-select: none; }
.ll-section-head .ll-count { color: #888; font-weight: 400; margin-left: 6px; }
.ll-panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr));
  gap: 8px; }
.ll-panel { border: 1px solid #e3e3e3; border-radius: 4px; padding: 4px 6px; min-width: 0;
  background: #fff; }
.ll-panel.ll-wide { grid-column: 1 / -1; }
.ll-panel-bar { display: flex; align-items: center; gap: 2px; }
.ll-panel-title { font-weight: 600; flex: 1; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.ll-panel-bar button { border: none; background: none; color: #888; padding: 0 4px;
  margin: 0; }
.ll-panel-bar button:hover:not(:disabled) { color: #222; background: #eee; }
.ll-panel-code { font-size: 11px; white-space: pre-wrap; background: #f6f6f6; padding: 4px;
  margin: 2px 0; }
.ll-panel-plot { position: relative; }
.ll-panel-plot.ll-no-points::after { content: "no points for these runs"; position: absolute;
  top: 45%; left: 0; right: 0; text-align: center; color: #999; }
.ll-tooltip { position: absolute; top: 8px; z-index: 10; pointer-events: none; white-space: nowrap;
  background: rgba(255,255,255,.96); border: 1px solid #ccc; border-radius: 3px;
  padding: 4px 6px; font-size: 11px; box-shadow: 0 1px 4px rgba(0,0,0,.15); max-width: 340px; }
.ll-tt-x { font-weight: 600; margin-bottom: 2px; }
.ll-tt-row { display: flex; align-items: center; gap: 4px; }
.ll-tt-name { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ll-tt-value { flex: none; font-variant-numeric: tabular-nums; margin-left: 8px; }
.ll-hint { color: #777; padding: 28px; text-align: center; border: 1px dashed #ddd;
  border-radius: 4px; margin: 6px 0; }
`;
