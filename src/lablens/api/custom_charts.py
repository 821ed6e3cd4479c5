"""``CustomChart`` and ``CustomCharts``: an entity's Vega-Lite chart presets, and the data they
draw.

A preset is a Vega-Lite spec and a query (W&B's ``create_custom_chart`` keeps the spec; the
query is ours, so that a preset draws itself)::

    {"keys": ["loss"],                      # history keys: a row per (run, step)
     "fields": {"lr": "config.lr"},         # run-table columns, as the names the spec uses
     "x_axis": "_step", "samples": 500,     # as runs.histories()
     "filters": {"state": "FINISHED"}, "order": "-created_at",
     "project": "alice/mnist"}              # drawn when no project is given

Drawing is ``chart.data(project)``, one public call that returns a DataFrame, and
``chart.vega_lite(frame)``, the spec with that DataFrame as its ``data.values``.
"""

from __future__ import annotations

import copy
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lablens.api._attrs import Attrs, html_table
from lablens.api.paging import Paginator
from lablens.contract.routes import chart_route
from lablens.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from lablens.api.api import Api
    from lablens.api.runs import Runs

__all__ = ["CustomChart", "CustomCharts"]

#: The MIME type JupyterLab draws a Vega-Lite spec with (its built-in Vega extension).
VEGALITE_MIME = "application/vnd.vegalite.v5+json"


def _column(field: str) -> str:
    """The run-table column of a field: ``summary_metrics.acc`` -> ``summary.acc``."""
    if field.startswith("summary_metrics."):
        return "summary." + field[len("summary_metrics.") :]
    return field


def _field_map(fields: Any) -> dict[str, str]:
    """``fields`` as ``{name in the frame: run-table column}``."""
    if not fields:
        return {}
    if isinstance(fields, str):
        fields = [fields]
    if isinstance(fields, Mapping):
        return {str(k): _column(str(v)) for k, v in fields.items()}
    return {str(f): _column(str(f)) for f in fields}


def _value(value: Any) -> Any:
    """A cell as JSON takes it, exactly: floats keep every digit, NaN and infinities are
    ``null`` (JSON has neither), times are ISO 8601 text."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return None if value != value else value.isoformat()  # NaT is not equal to itself
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return _value(value.tolist())
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as Vega-Lite's ``data.values``: one object per row (values exact, NaN as
    ``null``, times as ISO 8601 text)."""
    columns = [str(c) for c in frame.columns]
    return [
        {c: _value(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


class CustomChart(Attrs):
    """A custom chart preset: a Vega-Lite spec and the query whose rows it draws.

    Make one with ``api.create_custom_chart(...)``; get them with ``api.custom_charts(entity)``
    and one with ``api.custom_chart("entity/name")``.

    Example:
        >>> chart = api.custom_chart("alice/loss-curve")
        >>> frame = chart.data("alice/mnist")          # the query's rows, a DataFrame
        >>> spec = chart.vega_lite(frame)              # the spec with those rows as data
        >>> chart.plot("alice/mnist")                  # drawn in the notebook
    """

    entity: str
    """The entity (user or team) that owns the preset."""
    name: str
    """The preset's identifier, unique in its entity."""
    display_name: str
    """The name shown for it."""
    spec_type: str
    """``vega2`` (W&B's name for a Vega-Lite spec) or ``vega-lite``."""
    access: str
    """``private`` (members of the entity) or ``public`` (every signed-in user)."""
    spec: dict[str, Any]
    """The Vega-Lite spec."""
    query: dict[str, Any]
    """What it draws: ``keys``, ``fields``, ``x_axis``, ``samples``, ``filters``, ``order``,
    ``project``."""
    created_at: str | None
    """When it was saved, ISO 8601 UTC."""

    def _load(self, data: dict[str, Any]) -> None:
        self.entity = data.get("entity") or ""
        self.name = data.get("name") or ""
        self.display_name = data.get("display_name") or self.name
        self.spec_type = data.get("spec_type") or "vega2"
        self.access = data.get("access") or "private"
        self.spec = dict(data.get("spec") or {})
        self.query = dict(data.get("query") or {})
        self.created_at = data.get("created_at")

    @property
    def id(self) -> str:
        """``entity/name``, what ``api.custom_chart()`` takes."""
        return f"{self.entity}/{self.name}"

    path = id

    # -- data -----------------------------------------------------------------------------

    def _project(self, path: str | None) -> str:
        project = path or self.query.get("project")
        if not project:
            raise UsageError(
                f"custom chart {self.id} names no project: pass one, chart.data('entity/project')",
                field="path",
            )
        return str(project)

    def data(
        self,
        path: str | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> pd.DataFrame:
        """The rows this chart draws: its query run on a project.

        With ``keys`` in the query, one row per (run, step): ``run_id``, ``name`` (the run's
        display name), ``_step``, a column per key, ``_timestamp``, ``_runtime``, then the
        ``fields``. Without, one row per run: ``id``, ``name`` and the ``fields``. Fields given
        as a mapping take the names the spec uses (``{"lr": "config.lr"}``).

        Args:
            path: ``entity/project``; by default the query's ``project``.
            filters: which runs, instead of the query's ``filters``.
            order: the runs' order, instead of the query's.

        Returns:
            A DataFrame.

        Raises:
            UsageError: no project, or a query with neither ``keys`` nor ``fields``.
            BadRequest: the filter or order is invalid (``.field`` names it).

        Example:
            >>> frame = api.custom_chart("alice/loss-curve").data(
            ...     "alice/mnist", filters={"state": "FINISHED"})
        """
        runs = self._api.runs(
            self._project(path),
            filters=dict(filters) if filters is not None else self.query.get("filters"),
            order=order or self.query.get("order") or "+created_at",
        )
        return self.data_of(runs)

    def data_of(self, runs: Runs) -> pd.DataFrame:
        """The rows this chart draws for a collection of runs (a report's run set).

        Example:
            >>> chart.data_of(api.runs("alice/mnist", filters={"group": "a"}))
        """
        keys: Sequence[str] = self.query.get("keys") or []
        fields = _field_map(self.query.get("fields"))
        if not keys and not fields:
            raise UsageError(
                f"custom chart {self.id} has no query to draw: give it 'keys' (history) or"
                " 'fields' (run columns)",
                field="query",
            )
        columns = ["name", *dict.fromkeys(c for c in fields.values() if c != "name")]
        table = runs.to_pandas(columns=columns)
        if not keys:
            return table.rename(columns={v: k for k, v in fields.items()})
        frame = runs.histories(
            samples=self.query.get("samples", 500),
            keys=list(keys),
            x_axis=self.query.get("x_axis") or "_step",
            format="pandas",
        )
        per_run = table.rename(columns={"id": "run_id"})
        per_run = per_run[["run_id", "name", *(c for c in fields.values() if c != "name")]]
        out = frame.merge(per_run, on="run_id", how="left")
        renamed = out.rename(columns={v: k for k, v in fields.items() if v != "name"})
        renamed.attrs = dict(frame.attrs)
        return renamed

    def vega_lite(self, data: pd.DataFrame) -> dict[str, Any]:
        """The spec with ``data`` as its rows (``data.values``): what draws the chart.

        Example:
            >>> spec = chart.vega_lite(chart.data("alice/mnist"))
            >>> len(spec["data"]["values"])
        """
        spec = copy.deepcopy(self.spec)
        spec["data"] = {"values": records(data)}
        return spec

    def plot(
        self,
        path: str | None = None,
        *,
        filters: Mapping[str, Any] | None = None,
        order: str | None = None,
    ) -> ChartView:
        """The chart drawn from :meth:`data`, shown by Jupyter (its Vega-Lite renderer).

        Example:
            >>> api.custom_chart("alice/loss-curve").plot("alice/mnist")
        """
        return ChartView(self.vega_lite(self.data(path, filters=filters, order=order)))

    def delete(self) -> None:
        """Delete the preset (members of its entity)."""
        self._api.client.delete(chart_route(self.entity, self.name))

    def __repr__(self) -> str:
        return f"<CustomChart {self.id} {self.access}>"

    def _repr_html_(self) -> str:
        return html_table(
            [
                ("display_name", self.display_name),
                ("access", self.access),
                ("mark", self.spec.get("mark")),
                ("query", json.dumps(self.query)),
            ],
            title=f"Custom chart {html.escape(self.id)}",
        )


class ChartView:
    """A Vega-Lite spec with its data, which Jupyter draws (``application/vnd.vegalite.v5+json``,
    JupyterLab's built-in renderer: no network, no widget).

    Attributes:
        spec: the spec, its rows in ``data.values``.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        rows = len((self.spec.get("data") or {}).get("values") or [])
        return {VEGALITE_MIME: self.spec, "text/plain": f"<Vega-Lite chart, {rows} rows>"}

    def __repr__(self) -> str:
        return self._repr_mimebundle_()["text/plain"]


class CustomCharts(Paginator[CustomChart]):
    """An entity's custom chart presets, by name, read lazily (a reader outside the entity sees
    its public ones).

    Example:
        >>> [c.name for c in api.custom_charts("alice")]
    """

    def __init__(self, api: Api, entity: str, *, per_page: int = 50) -> None:
        super().__init__(api, per_page)
        self.entity = entity

    def _fetch(self, cursor: str | None, limit: int) -> dict[str, Any]:
        return self._get_page(chart_route(self.entity), cursor, limit)

    def _convert(self, item: dict[str, Any]) -> CustomChart:
        return CustomChart.from_json(self._api, item)

    def __repr__(self) -> str:
        return f"<CustomCharts {self.entity}>"
