"""``CompareView``: runs side by side, one column per run, a row per config key (those that
differ highlighted and first), the summary metrics below, with an "only differences" toggle.

One ``Runs.compare()`` call per change; the table is HTML drawn from the DataFrame that call
returns (``to_pandas()``), so the widget needs no bundle of its own: a table of a few runs and
their keys is small, and an ``ipywidgets.HTML`` works wherever ipywidgets do.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import traitlets as t

from lablens.contract.paths import parse_run_path
from lablens.widgets._base import Recorder, check_kwargs, make_api, shows_errors
from lablens.widgets._call import ApiCall, api_call
from lablens.widgets._colors import run_colors
from lablens.widgets._traits import RunPaths

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["CompareView"]


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# ipywidgets' HTML sets a 28 px line height for one-line labels: a table needs its own.
_STYLE = (
    "<style>.ll-cmp{overflow:auto;max-height:460px;border:1px solid #e3e3e3;font-size:13px;"
    "line-height:1.35;max-width:100%}.ll-cmp table{border-collapse:separate;border-spacing:0}"
    ".ll-cmp th,.ll-cmp td{padding:4px 12px;border-bottom:1px solid #eee;white-space:nowrap;"
    "text-align:left;font-variant-numeric:tabular-nums}"
    ".ll-cmp thead th{position:sticky;top:0;background:#f7f7f7;z-index:2;font-weight:600}"
    ".ll-cmp tbody th{position:sticky;left:0;background:#fff;font-weight:normal;color:#444;"
    "z-index:1;border-right:1px solid #eee}"
    ".ll-cmp tr.diff td,.ll-cmp tr.diff th{background:#fff6d9}"
    ".ll-cmp tr.diff th{font-weight:600;color:#222}.ll-cmp tr.same td{color:#999}"
    ".ll-cmp tr.section th,.ll-cmp tr.section td{background:#eef2f7;color:#333;font-weight:600;"
    "padding-top:3px;padding-bottom:3px}"
    ".ll-cmp .sw{display:inline-block;width:10px;height:10px;border-radius:2px;"
    "margin-right:6px;vertical-align:baseline}</style>"
)


def compare_html(frame: pd.DataFrame, colors: dict[str, str]) -> str:
    """The comparison as an HTML table: runs as columns (a colour swatch each), config rows
    then summary rows, the rows that differ highlighted."""
    differs = set(frame.attrs.get("differs", []))
    ids = frame.attrs.get("run_ids", {})
    head = "".join(
        f"<th title='{html.escape(str(ids.get(c, '')))}'><span class='sw' style='background:"
        f"{colors.get(ids.get(c, ''), '#999')}'></span>{html.escape(str(c))}</th>"
        for c in frame.columns
    )
    rows = []
    section = None
    for key, values in frame.iterrows():
        part = "config" if str(key).startswith("config.") else "summary"
        if part != section:
            section = part
            rows.append(
                f"<tr class='section'><th>{part}</th>" + "<td></td>" * len(frame.columns) + "</tr>"
            )
        kind = "diff" if key in differs else "same"
        cells = "".join(f"<td>{html.escape(_shown(v))}</td>" for v in values)
        name = html.escape(str(key).split(".", 1)[1])
        rows.append(
            f"<tr class='{kind}'><th title='{html.escape(str(key))}'>{name}</th>{cells}</tr>"
        )
    return (
        f"{_STYLE}<div class='ll-cmp'><table><thead><tr><th>key</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


class CompareView(w.VBox, Recorder):
    """Runs side by side: a column per run, a row per config key, the summary below.

    The rows whose values differ between the runs are highlighted and come first (config, then
    summary); ``only_differences`` hides the others. Each change is one ``Runs.compare()`` call,
    recorded as ``code``; ``to_pandas()`` is the DataFrame it returned.

    Args:
        api: the ``Api`` to query (default: the ``Api`` of the Run objects given, else
            ``lablens.Api()``).

    Keyword Args:
        runs: the runs: paths ``entity/project/run_id``, ``Run`` objects or a ``Runs``
            collection, of one project (runs of other projects are left out, and said so).
        only_differences: show only the rows that differ.

    Raises:
        TypeError: an unknown keyword argument, or ``runs`` of a type it does not take.

    Example:
        >>> view = CompareView(api, runs=api.runs("alice/mnist")[:4])
        >>> view.only_differences = True
        >>> view.to_pandas()
    """

    _public = ("runs", "only_differences")

    runs = RunPaths()
    """The runs compared, as paths ``entity/project/run_id``."""

    run_colors = t.Dict(value_trait=t.Unicode())
    """``{run id: CSS colour}`` of the swatches (the Explorer gives its table's colours); runs
    not in it take the shared palette's."""

    only_differences = t.Bool(False)
    """Show only the rows whose values differ between the runs."""

    def __init__(self, api: Api | None = None, **kwargs: Any) -> None:
        check_kwargs(self, kwargs, self._public)
        self._api = make_api(api, kwargs.get("runs"), widget="CompareView")
        self._recorder_init()
        self._frame = pd.DataFrame()
        self._title = w.HTML()
        self._toggle = w.Checkbox(value=False, description="only differences", indent=False)
        self._status = w.HTML()
        self._table = w.HTML()
        super().__init__(
            children=[w.HBox([self._title, self._toggle]), self._status, self._table],
        )
        self.add_class("lablens-compare")
        self._toggle.observe(lambda c: setattr(self, "only_differences", c["new"]), "value")
        self.observe(self._changed, ["runs", "only_differences"])
        self.observe(self._show_error, "error")
        for name, value in kwargs.items():
            setattr(self, name, value)
        if not kwargs.get("runs"):
            self._render()

    def _call(self) -> ApiCall | None:
        if not self.runs:
            return None
        first = parse_run_path(self.runs[0])
        project = f"{first[0]}/{first[1]}"
        ids = [p.rsplit("/", 1)[1] for p in self.runs if p.rsplit("/", 1)[0] == project]
        return api_call("runs", project, filters={"id": {"$in": ids}}).then(
            "compare", only_differences=self.only_differences
        )

    @shows_errors
    def _changed(self, change: dict[str, Any] | None = None) -> None:
        self._toggle.value = self.only_differences
        call = self._call()
        if call is None:
            self._frame = pd.DataFrame()
            self._record("")
        else:
            self._frame = call.run(self._api)
            self._record(call.assign("df"))
        self._render()

    def _show_error(self, change: dict[str, Any]) -> None:
        self._status.value = (
            f"<span style='color:#b00020'>{html.escape(change['new'])}</span>"
            if change["new"]
            else ""
        )

    def _render(self) -> None:
        frame = self._frame
        n = frame.shape[1]
        if not self.runs:
            self._title.value = ""
            self._table.value = (
                "<div style='color:#666;padding:6px 0'>Select runs in the table (two or more) to"
                " see their config side by side.</div>"
            )
            return
        others = len(self.runs) - n
        left_out = f" · {others} of another project left out" if others > 0 else ""
        differs = len(frame.attrs.get("differs", []))
        self._title.value = (
            f"<span style='color:#444'>{n} run{'' if n == 1 else 's'} ·"
            f" {differs} key{'' if differs == 1 else 's'} differ{'s' if differs == 1 else ''}"
            f"{left_out}</span>&nbsp;&nbsp;"
        )
        if frame.empty:
            self._table.value = (
                "<div style='color:#666;padding:6px 0'>"
                + (
                    "Nothing differs between these runs."
                    if self.only_differences
                    else "These runs have no config or summary."
                )
                + "</div>"
            )
            return
        ids = list(frame.attrs.get("run_ids", {}).values())
        auto = run_colors(ids)
        self._table.value = compare_html(frame, {i: self.run_colors.get(i) or auto[i] for i in ids})

    def to_pandas(self) -> pd.DataFrame:
        """What the view shows: the DataFrame ``Runs.compare()`` returned (empty before runs
        are given). Equal to ``exec(view.code)``'s ``df``."""
        return self._frame.copy()

    def __repr__(self) -> str:
        return f"<CompareView {len(self.runs)} runs>"
